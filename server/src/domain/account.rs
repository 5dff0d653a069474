//! Who may use the admin console: a user's name, id and role, parsed once
//! where they come in (a form, the command line, the database).

use std::fmt;

use serde::{Deserialize, Serialize};

/// What a signed-in user may do. Roles are ordered: each includes the ones
/// before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads every report and exports it.
    Viewer,
    /// Also imports school lists, adds pledges and marks shipments.
    Operator,
    /// Also manages the users.
    Admin,
}

impl Role {
    /// Every role, least first.
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Operator, Role::Admin];

    /// The role's stable name (`viewer`), as stored and typed on the
    /// command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Operator => "operator",
            Self::Admin => "admin",
        }
    }

    /// The role in Chinese.
    pub fn zh(self) -> &'static str {
        match self {
            Self::Viewer => "查看者",
            Self::Operator => "操作员",
            Self::Admin => "管理员",
        }
    }

    /// The role in English.
    pub fn en(self) -> &'static str {
        match self {
            Self::Viewer => "Viewer",
            Self::Operator => "Operator",
            Self::Admin => "Admin",
        }
    }

    /// Parses [`Self::name`] (ASCII case ignored, spaces trimmed).
    pub fn parse(text: &str) -> Result<Self, AccountError> {
        let text = text.trim();
        Self::ALL
            .into_iter()
            .find(|role| role.name().eq_ignore_ascii_case(text))
            .ok_or_else(|| AccountError::UnknownRole(text.to_owned()))
    }

    /// True when this role includes everything `least` may do.
    pub fn allows(self, least: Role) -> bool {
        self >= least
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Role {
    type Err = AccountError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// A user's sign-in name: 2-32 characters of lowercase `a-z`, digits, `.`,
/// `_` and `-`, starting with a letter or digit. Parsing lowercases ASCII
/// letters, so `Wang.Li` and `wang.li` are one user.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UserName(String);

impl UserName {
    /// Shortest name, in characters.
    pub const MIN_CHARS: usize = 2;
    /// Longest name, in characters.
    pub const MAX_CHARS: usize = 32;

    /// Parses a name as typed (surrounding spaces trimmed).
    pub fn parse(text: &str) -> Result<Self, AccountError> {
        let name = text.trim().to_ascii_lowercase();
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c);
        let starts_well = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        if (Self::MIN_CHARS..=Self::MAX_CHARS).contains(&name.len())
            && starts_well
            && name.chars().all(allowed)
        {
            Ok(Self(name))
        } else {
            Err(AccountError::BadUserName)
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for UserName {
    type Error = AccountError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<UserName> for String {
    fn from(name: UserName) -> Self {
        name.0
    }
}

/// A user's number, given by the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UserId(pub u64);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Why a text is not a valid account value. Messages are Chinese, then
/// English, as the console shows them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    /// Not one of `viewer`, `operator`, `admin`.
    #[error(
        "未知角色“{0}”，应为 viewer、operator 或 admin / unknown role {0:?}: viewer, operator or admin"
    )]
    UnknownRole(String),
    /// A user name outside the allowed length or alphabet.
    #[error(
        "用户名应为 2-32 个小写字母、数字、.、_ 或 -，以字母或数字开头 / a user name is 2-32 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit"
    )]
    BadUserName,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_are_parsed_and_lowercased() {
        let check = |text: &str, expected: Result<&str, AccountError>| {
            assert_eq!(
                UserName::parse(text).as_ref().map(UserName::as_str),
                expected.as_ref().map(|name| *name),
                "{text:?}"
            );
        };
        check("admin", Ok("admin"));
        check(" Wang.Li ", Ok("wang.li"));
        check("ops-2", Ok("ops-2"));
        check("a", Err(AccountError::BadUserName));
        check(&"x".repeat(33), Err(AccountError::BadUserName));
        check("-admin", Err(AccountError::BadUserName));
        check("王丽", Err(AccountError::BadUserName));
        check("ad min", Err(AccountError::BadUserName));
        check("=cmd", Err(AccountError::BadUserName));
    }

    #[test]
    fn roles_parse_by_name_and_are_ordered() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.name()), Ok(role), "{role} round-trips");
            assert_eq!(
                Role::parse(&role.name().to_uppercase()),
                Ok(role),
                "{role} in capitals"
            );
        }
        assert!(Role::parse("root").is_err(), "an unknown role is refused");
        assert!(
            Role::Admin.allows(Role::Operator),
            "admin includes operator"
        );
        assert!(
            Role::Operator.allows(Role::Viewer),
            "operator includes viewer"
        );
        assert!(
            !Role::Viewer.allows(Role::Operator),
            "viewer is not operator"
        );
        assert!(Role::Viewer.allows(Role::Viewer), "a role allows itself");
    }
}
