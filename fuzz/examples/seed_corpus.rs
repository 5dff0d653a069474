//! Writes the seed corpus of every fuzz target into `fuzz/corpus/<target>/`
//! (or under the folder given as the first argument): small, real inputs
//! that take each target deep on its first run. Run through
//! `cargo xtask fuzz --seed-corpus`; the output is committed.
//!
//! Every file is made here, from `sim`'s scripted player, tokens signed
//! with the fuzz key, the demo school list and workbooks written with
//! rust_xlsxwriter, so the corpus is reproducible byte for byte. Only files
//! named `seed-*` are replaced: inputs that once crashed a target (kept as
//! `crash-*`) stay.

use std::error::Error;
use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dream_fairy_fuzz::{NOW_MS, TokenMode};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Formula, Workbook};
use server::api::rounds::{check_before_replay, judge_replay, read_finish_body};
use server::config::RoundPolicy;
use server::domain::{PlayerId, RoundId, ShareCode};
use server::token::RoundClaims;
use sim::bot::{self, IdlePlayer, RandomPlayer};
use sim::wire::FinishRoundRequest;
use sim::{InputLog, Outcome, RULES_VERSION, Rules, Seed, Steer, SteerChange};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

fn main() -> Result<()> {
    let root = match std::env::args_os().nth(1) {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus"),
    };
    let targets: [(&str, Vec<(String, Vec<u8>)>); 5] = [
        ("input_log_replay", input_logs()?),
        ("school_file", school_files()?),
        ("round_token", round_tokens()),
        ("share_code_and_idempotency_key", short_texts()),
        ("finish_body", finish_bodies()?),
    ];
    for (target, seeds) in targets {
        let dir = root.join(target);
        fs::create_dir_all(&dir)?;
        for entry in fs::read_dir(&dir)? {
            let path = entry?.path();
            if path
                .file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with("seed-"))
            {
                fs::remove_file(path)?;
            }
        }
        let bytes: usize = seeds.iter().map(|(_, seed)| seed.len()).sum();
        for (name, seed) in &seeds {
            fs::write(dir.join(format!("seed-{name}")), seed)?;
        }
        println!(
            "{target}: {} seeds, {bytes} bytes in {}",
            seeds.len(),
            dir.display()
        );
    }
    Ok(())
}

/// `input_log_replay`: logs that complete, idle, tap at random, change
/// every tick, or go past the end, and the decoder's refusals.
fn input_logs() -> Result<Vec<(String, Vec<u8>)>> {
    let rules = Rules::CURRENT;
    let mut seeds = Vec::new();
    for seed in [1, 2, 3] {
        let (log, _) = bot::play_round(Seed(seed), &rules);
        seeds.push((
            format!("bot-{seed}"),
            dream_fairy_fuzz::join_seed(Seed(seed), &log.encode()),
        ));
    }
    let (idle, _) = bot::play(Seed(4), &rules, &mut IdlePlayer);
    let (taps, _) = bot::play(Seed(5), &rules, &mut RandomPlayer::new(5, 10));
    let every_tick = InputLog::from_changes((0..rules.round_ticks).map(|tick| SteerChange {
        tick,
        steer: if tick % 2 == 0 {
            Steer::LEFTMOST
        } else {
            Steer::RIGHTMOST
        },
    }))?;
    let (bot_log, _) = bot::play_round(Seed(1), &rules);
    let past_end =
        InputLog::from_changes(bot_log.changes().iter().copied().chain([SteerChange {
            tick: rules.round_ticks + 5,
            steer: Steer::CENTRE,
        }]))?;
    for (name, seed, log) in [
        ("idle", 4, idle),
        ("random-taps", 5, taps),
        ("every-tick", 6, every_tick),
        ("past-end", 1, past_end),
    ] {
        seeds.push((
            name.to_owned(),
            dream_fairy_fuzz::join_seed(Seed(seed), &log.encode()),
        ));
    }
    for (name, log) in [
        ("bad-version", &[2, 0, 100][..]),
        ("non-minimal-varint", &[1, 0x80, 0x00, 1]),
        ("column-out-of-range", &[1, 3, 201]),
        ("tick-overflow", &[1, 0xff, 0xff, 0xff, 0xff, 0x0f, 3, 0, 4]),
        ("cut-off", &[1, 0, 1, 0x80]),
    ] {
        seeds.push((name.to_owned(), dream_fairy_fuzz::join_seed(Seed(7), log)));
    }
    Ok(seeds)
}

/// `school_file`: the demo list as UTF-8, with a byte order mark, as GBK,
/// with a title above a tab-separated English header, with semicolons,
/// with every kind of bad line, and as XLSX.
fn school_files() -> Result<Vec<(String, Vec<u8>)>> {
    let demo = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/demo/schools.csv"),
    )?;
    // The header and a few schools are enough to reach every branch; the
    // whole list keeps one seed close to a real upload.
    let short: String = demo
        .lines()
        .take(6)
        .map(|line| format!("{line}\r\n"))
        .collect();
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(&short);
    assert!(!unmappable, "the demo list is GBK-encodable");
    let english =
        "school_id\tname\tprovince\tprefecture\tcounty\tcounty_code\tpupils\ttarget_books\n";
    let tabbed: String = short
        .lines()
        .skip(1)
        .map(|line| format!("{}\n", line.replace(',', "\t")))
        .collect();
    let semicolons = short.replace(',', ";");
    let bad_lines = [
        "学校编号,学校名称,省,市/州,县,县代码,学生数,目标册数,备注",
        "A-1,=HYPERLINK(\"x\"),贵州省,安顺市,普定县,520422,161,270,",
        "A-2,示例小学,贵州省,安顺市,普定县,520400,0,99999999999,",
        "A-1,\"两行\n名称\",贵州省,安顺市, 普定县 ,5204x2,-3,1.5,",
        "A 3,示例小学,,安顺市,普定县,990422,161,270,\"多,余\"",
        "A-4,示例小学,贵州省",
        ",,,,,,,,",
    ]
    .join("\n");
    let mut seeds = vec![
        ("demo.csv".to_owned(), demo.into_bytes()),
        ("demo-short.csv".to_owned(), short.clone().into_bytes()),
        (
            "demo-bom.csv".to_owned(),
            [b"\xEF\xBB\xBF", short.as_bytes()].concat(),
        ),
        ("demo-gbk.csv".to_owned(), gbk.into_owned()),
        (
            "title-tabs.tsv".to_owned(),
            format!("2026 年受赠学校名单\n\n{english}{tabbed}").into_bytes(),
        ),
        ("semicolons.csv".to_owned(), semicolons.into_bytes()),
        ("bad-lines.csv".to_owned(), bad_lines.into_bytes()),
        (
            "legacy.xls".to_owned(),
            b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1junk".to_vec(),
        ),
    ];
    let rows: Vec<Vec<&str>> = short
        .lines()
        .map(|line| line.split(',').collect())
        .collect();
    seeds.push(("demo.xlsx".to_owned(), xlsx(&rows)?));
    Ok(seeds)
}

/// The demo rows as a workbook, as staff make one: a title above the
/// header, numbers as numbers, an error value in a notes column.
fn xlsx(rows: &[Vec<&str>]) -> Result<Vec<u8>> {
    let mut workbook = Workbook::new();
    // A fixed creation time, so the same workbook has the same bytes.
    workbook.set_properties(
        &DocProperties::new().set_creation_datetime(&ExcelDateTime::from_ymd(2026, 1, 1)?),
    );
    let sheet = workbook.add_worksheet();
    sheet.write_string(0, 0, "2026 年受赠学校名单")?;
    for (row, cells) in (1..).zip(rows) {
        for (column, cell) in (0..).zip(cells) {
            match cell.parse::<f64>() {
                Ok(number) => sheet.write_number(row, column, number)?,
                Err(_) => sheet.write_string(row, column, *cell)?,
            };
        }
        if row > 1 {
            sheet.write_formula(row, 8, Formula::new("=NA()").set_result("#N/A"))?;
        }
    }
    Ok(workbook.save_to_buffer()?)
}

/// Claims of a round of the fuzz round id, issued `age_ms` before the fuzz
/// clock.
fn claims(seed: u64, age_ms: u64, referral: Option<&str>) -> RoundClaims {
    RoundClaims {
        round: dream_fairy_fuzz::round(),
        player: PlayerId::from_bytes(*b"fuzz player id 1"),
        seed: Seed(seed),
        issued_at_ms: NOW_MS - age_ms,
        rules_version: RULES_VERSION,
        referral: referral.map(|code| ShareCode::parse(code).expect("a valid code")),
    }
}

/// `round_token`: real tokens as text and as signed payloads, junk, and
/// material for arbitrary claims.
fn round_tokens() -> Vec<(String, Vec<u8>)> {
    let key = dream_fairy_fuzz::token_key();
    let mut seeds = Vec::new();
    for (name, claims) in [
        ("plain", claims(1, 60_000, None)),
        ("referral", claims(2, 60_000, Some("7K3M9QRT"))),
    ] {
        let token = key.sign(&claims);
        assert_eq!(
            key.verify(&token),
            Ok(claims),
            "the fuzz key verifies its tokens"
        );
        let signed = URL_SAFE_NO_PAD
            .decode(&token)
            .expect("tokens are base64url");
        let payload = &signed[..signed.len() - 32];
        seeds.push((
            format!("text-{name}"),
            TokenMode::Text.join(token.as_bytes()),
        ));
        seeds.push((
            format!("payload-{name}"),
            TokenMode::SignedPayload.join(payload),
        ));
    }
    seeds.push(("text-junk".to_owned(), TokenMode::Text.join(b"!!!")));
    seeds.push((
        "claims".to_owned(),
        TokenMode::Claims.join(&(0..=80).collect::<Vec<u8>>()),
    ));
    seeds
}

/// `share_code_and_idempotency_key`: codes and keys, valid and not.
fn short_texts() -> Vec<(String, Vec<u8>)> {
    [
        ("code", "7K3M9QRT"),
        ("code-lower", "7k3m9qrt"),
        ("code-look-alikes", "O1LI0000"),
        ("code-u", "7K3M9QRU"),
        ("code-short", "7K3M9QR"),
        ("code-chinese", "老师老师"),
        ("key-uuid", "8e03978e-40d5-43e8-bc93-6894a57f9324"),
        ("key-quoted", "\"8e03978e-40d5-43e8-bc93-6894a57f9324\""),
        ("key-space", "has space"),
        ("key-padded", " \tabc-123 "),
        ("key-escape", "\"a\\\"b\""),
    ]
    .into_iter()
    .map(|(name, text)| (name.to_owned(), text.as_bytes().to_vec()))
    .collect()
}

/// A finish body as the game sends it.
fn body(token: String, input_log: InputLog, outcome: Outcome) -> Vec<u8> {
    let request = FinishRoundRequest {
        token,
        input_log,
        outcome,
    };
    serde_json::to_vec(&request).expect("a request serialises")
}

/// `finish_body`: bodies that count, and one for each refusal the body
/// alone can earn.
fn finish_bodies() -> Result<Vec<(String, Vec<u8>)>> {
    let key = dream_fairy_fuzz::token_key();
    let rules = Rules::CURRENT;
    let round = |seed: u64| bot::play_round(Seed(seed), &rules);
    let mut seeds = Vec::new();
    for (name, claims) in [
        ("counted-1", claims(1, 60_000, None)),
        ("counted-2", claims(2, 60_000, None)),
        ("counted-referral", claims(3, 60_000, Some("7K3M9QRT"))),
    ] {
        let (log, outcome) = round(claims.seed.0);
        let seed = body(key.sign(&claims), log, outcome);
        // The fuzz clock, key and round must let these count, or the
        // fuzzer never reaches a counted round.
        let counts =
            read_finish_body(&key, dream_fairy_fuzz::round(), &seed).and_then(|(request, read)| {
                check_before_replay(
                    &RoundPolicy::default(),
                    &rules,
                    &read,
                    &request.outcome,
                    NOW_MS,
                )?;
                judge_replay(
                    &request.outcome,
                    sim::replay(read.seed, &rules, &request.input_log),
                )
            });
        assert!(counts.is_ok(), "{name} must count, not {counts:?}");
        seeds.push((name.to_owned(), seed));
    }
    let (log, outcome) = round(1);
    let token = key.sign(&claims(1, 60_000, None));
    let (idle, idle_outcome) = bot::play(Seed(1), &rules, &mut IdlePlayer);
    let inflated = Outcome {
        score: outcome.score + 10,
        ..outcome
    };
    let mut other_round = claims(1, 60_000, None);
    other_round.round = RoundId::from_bytes(*b"another round id");
    let mut other_rules = claims(1, 60_000, None);
    other_rules.rules_version += 1;
    for (name, seed) in [
        ("incomplete", body(token.clone(), idle, idle_outcome)),
        ("inflated-score", body(token.clone(), log.clone(), inflated)),
        (
            "log-of-another-seed",
            body(key.sign(&claims(9, 60_000, None)), log.clone(), outcome),
        ),
        (
            "expired",
            body(
                key.sign(&claims(1, 2 * 3_600_000, None)),
                log.clone(),
                outcome,
            ),
        ),
        (
            "too-fast",
            body(key.sign(&claims(1, 1_000, None)), log.clone(), outcome),
        ),
        (
            "other-rules",
            body(key.sign(&other_rules), log.clone(), outcome),
        ),
        (
            "other-round",
            body(key.sign(&other_round), log.clone(), outcome),
        ),
        ("forged-token", body("AQ".to_owned(), log, outcome)),
        (
            "bad-log",
            format!(r#"{{"token":"{token}","input_log":"Ag","outcome":{{}}}}"#).into_bytes(),
        ),
        ("not-json", br#"{"token": "#.to_vec()),
    ] {
        seeds.push((name.to_owned(), seed));
    }
    Ok(seeds)
}
