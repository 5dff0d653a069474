//! Breaking text into lines that fit a width, for names of any length.
//!
//! Chinese may break between any two characters, Latin words and numbers
//! only at spaces, and a line never starts with closing punctuation nor ends
//! with opening punctuation (the basic rules of 禁则, line-breaking). Text
//! that still does not fit in the allowed lines ends with "…". Where a
//! line can end at a comma or a full stop instead of mid-phrase without
//! leaving it less than half full, it does, as long as the text still fits.

/// The ellipsis that ends text cut short.
pub(crate) const ELLIPSIS: char = '…';

/// Splits `text` into at most `max_lines` lines, each no wider than
/// `max_width` when its characters' advances (`advance`, in the same unit
/// as `max_width`) are added up. The last line ends with [`ELLIPSIS`] when
/// the text had to be cut. A single character wider than the line still
/// gets a line of its own, so the text always makes progress.
pub(crate) fn wrap(
    text: &str,
    max_width: f32,
    max_lines: usize,
    advance: impl Fn(char) -> f32,
) -> Vec<String> {
    let by_phrase = wrap_with(text, max_width, max_lines, &advance, true);
    let cut_short = |lines: &[String]| lines.last().is_some_and(|line| line.ends_with(ELLIPSIS));
    if cut_short(&by_phrase) && !text.trim().ends_with(ELLIPSIS) {
        let greedy = wrap_with(text, max_width, max_lines, &advance, false);
        if !cut_short(&greedy) {
            return greedy;
        }
    }
    by_phrase
}

fn wrap_with(
    text: &str,
    max_width: f32,
    max_lines: usize,
    advance: &impl Fn(char) -> f32,
    by_phrase: bool,
) -> Vec<String> {
    let chars: Vec<char> = text.trim().chars().collect();
    let mut lines = Vec::new();
    let mut start = 0;
    while start < chars.len() && lines.len() < max_lines {
        while chars.get(start) == Some(&' ') {
            start += 1;
        }
        let fits_until = fitting_end(&chars[start..], max_width, advance) + start;
        if fits_until == chars.len() {
            lines.push(collect_trimmed(&chars[start..]));
            break;
        }
        if lines.len() + 1 == max_lines {
            lines.push(ellipsized(&chars[start..], max_width, advance));
            break;
        }
        let breaks = (start + 1..=fits_until)
            .rev()
            .filter(|&at| can_break_before(chars[at - 1], chars[at]));
        let half_full = start + (fits_until - start).div_ceil(2);
        let phrase_end = breaks
            .clone()
            .take_while(|&at| at >= half_full)
            .find(|&at| by_phrase && ends_phrase(chars[at - 1]));
        let end = phrase_end
            .or_else(|| breaks.clone().next())
            .unwrap_or(fits_until);
        lines.push(collect_trimmed(&chars[start..end]));
        start = end;
    }
    lines
}

/// How many characters of `chars` fit in `max_width`; at least one.
fn fitting_end(chars: &[char], max_width: f32, advance: &impl Fn(char) -> f32) -> usize {
    let mut width = 0.0;
    for (index, char) in chars.iter().enumerate() {
        width += advance(*char);
        if width > max_width {
            return index.max(1);
        }
    }
    chars.len()
}

/// The longest start of `chars` that fits in `max_width` with an ellipsis
/// after it.
fn ellipsized(chars: &[char], max_width: f32, advance: &impl Fn(char) -> f32) -> String {
    let room = max_width - advance(ELLIPSIS);
    let kept = if room > 0.0 {
        fitting_end(chars, room, advance)
    } else {
        0
    };
    // `fitting_end` keeps one character even when none fits.
    let kept = if chars[..kept].iter().map(|char| advance(*char)).sum::<f32>() > room {
        0
    } else {
        kept
    };
    let mut line = collect_trimmed(&chars[..kept]);
    line.push(ELLIPSIS);
    line
}

fn collect_trimmed(chars: &[char]) -> String {
    chars.iter().collect::<String>().trim_end().to_owned()
}

/// Whether a line may end after `before` and start with `after`.
fn can_break_before(before: char, after: char) -> bool {
    if is_closing(after) || is_opening(before) {
        return false;
    }
    // Spaces at a break are trimmed from both lines.
    before == ' ' || after == ' ' || !before.is_ascii() || !after.is_ascii()
}

/// Punctuation that ends a phrase, where a line break reads best.
fn ends_phrase(char: char) -> bool {
    "，。、；：？！,;:?!".contains(char)
}

/// Punctuation that must not start a line.
fn is_closing(char: char) -> bool {
    "，。、；：？！）》」』】”’…·,.;:?!)]}%".contains(char)
}

/// Punctuation that must not end a line.
fn is_opening(char: char) -> bool {
    "（《「『【“‘([{".contains(char)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ASCII is 1 wide, everything else 2 (like CJK in a real font).
    fn advance(char: char) -> f32 {
        if char.is_ascii() { 1.0 } else { 2.0 }
    }

    fn check(text: &str, max_width: f32, max_lines: usize, expected: &[&str]) {
        let lines = wrap(text, max_width, max_lines, advance);
        assert_eq!(
            lines, expected,
            "{text:?} in {max_lines} lines of width {max_width}"
        );
        for line in &lines {
            let width: f32 = line.chars().map(advance).sum();
            assert!(
                width <= max_width || line.chars().count() == 1,
                "{line:?} is {width} wide, more than {max_width}"
            );
        }
    }

    #[test]
    fn short_text_stays_on_one_line() {
        check("平塘县示例小学", 20.0, 2, &["平塘县示例小学"]);
        check("", 20.0, 2, &[]);
    }

    #[test]
    fn chinese_breaks_between_any_characters() {
        check(
            "黔南布依族苗族自治州平塘县",
            10.0,
            3,
            &["黔南布依族", "苗族自治州", "平塘县"],
        );
    }

    #[test]
    fn latin_breaks_at_spaces_only() {
        check("Dream Fairy Library", 12.0, 2, &["Dream Fairy", "Library"]);
        check("book #12345 of them", 11.0, 2, &["book #12345", "of them"]);
    }

    #[test]
    fn closing_punctuation_never_starts_a_line() {
        // Five characters fit; the comma may not start the next line, so
        // the break moves one character back.
        check("帮孩子凑书，一起来", 10.0, 3, &["帮孩子凑", "书，一起来"]);
    }

    #[test]
    fn lines_end_at_a_phrase_when_that_leaves_them_half_full() {
        check(
            "一起来圆梦：玩一局小游戏，帮孩子凑一本书",
            26.0,
            3,
            &["一起来圆梦：玩一局小游戏，", "帮孩子凑一本书"],
        );
        // The comma comes too early: the line would be less than half full.
        check(
            "好，一二三四五六七八",
            10.0,
            2,
            &["好，一二三", "四五六七八"],
        );
        // Breaking at the comma would need a third line: fill the lines.
        check(
            "一二三四，五六七八九十甲",
            12.0,
            2,
            &["一二三四，五", "六七八九十甲"],
        );
    }

    #[test]
    fn opening_punctuation_never_ends_a_line() {
        check("示例小学（虚构）", 10.0, 2, &["示例小学", "（虚构）"]);
    }

    #[test]
    fn text_too_long_ends_with_an_ellipsis() {
        let name = "某某省某某市某某县某某镇某某村第一中心小学附属幼儿园分园";
        check(name, 16.0, 2, &["某某省某某市某某", "县某某镇某某村…"]);
        check("Library", 4.0, 1, &["Li…"]);
    }

    #[test]
    fn a_character_wider_than_the_line_still_gets_a_line() {
        check("图书", 1.0, 3, &["图", "书"]);
        check("图书", 1.0, 1, &["…"]);
    }
}
