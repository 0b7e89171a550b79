//! Which database a `KILN_DATABASE_URL` names, checked once when the
//! configuration is read: a `DatabaseUrl` that exists is a URL Kiln supports.

use std::fmt;

/// The three backends Kiln runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DatabaseKind {
    Sqlite,
    Postgres,
    MySql,
}

impl DatabaseKind {
    pub fn name(self) -> &'static str {
        match self {
            DatabaseKind::Sqlite => "sqlite",
            DatabaseKind::Postgres => "postgres",
            DatabaseKind::MySql => "mysql",
        }
    }
}

/// A database URL of a supported scheme.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    url: String,
    kind: DatabaseKind,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatabaseUrlError {
    #[error("database URL is empty")]
    Empty,
    #[error(
        "unsupported database URL scheme {0:?}: use sqlite://PATH, postgres://USER@HOST/DB or mysql://USER@HOST/DB"
    )]
    UnsupportedScheme(String),
    #[error("database URL {0:?} names no database")]
    MissingDatabase(String),
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, DatabaseUrlError> {
        let url = raw.trim();
        if url.is_empty() {
            return Err(DatabaseUrlError::Empty);
        }
        let Some((scheme, rest)) = url.split_once(':') else {
            return Err(DatabaseUrlError::UnsupportedScheme(url.to_owned()));
        };
        let scheme = scheme.to_ascii_lowercase();
        let kind = match scheme.as_str() {
            "sqlite" => DatabaseKind::Sqlite,
            "postgres" | "postgresql" => DatabaseKind::Postgres,
            "mysql" | "mariadb" => DatabaseKind::MySql,
            _ => return Err(DatabaseUrlError::UnsupportedScheme(scheme)),
        };
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        let target = rest.split('?').next().unwrap_or_default();
        let names_database = match kind {
            DatabaseKind::Sqlite => !target.is_empty(),
            _ => target.split_once('/').is_some_and(|(_, db)| !db.is_empty()),
        };
        if !names_database {
            return Err(DatabaseUrlError::MissingDatabase(redact(url)));
        }
        // sqlx knows MariaDB as `mysql`.
        let url = if scheme == "mariadb" {
            format!("mysql{}", &url[scheme.len()..])
        } else {
            url.to_owned()
        };
        Ok(Self { url, kind })
    }

    /// A SQLite database file at `path`, created when missing.
    pub fn sqlite_file(path: &str) -> Self {
        Self {
            url: format!("sqlite://{path}?mode=rwc"),
            kind: DatabaseKind::Sqlite,
        }
    }

    pub fn kind(&self) -> DatabaseKind {
        self.kind
    }

    /// The file of a SQLite database (`None` for in-memory and servers).
    pub fn sqlite_path(&self) -> Option<String> {
        if self.kind != DatabaseKind::Sqlite {
            return None;
        }
        let rest = self.url.split_once(':')?.1;
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        let path = rest.split('?').next().unwrap_or_default();
        (!path.is_empty() && path != ":memory:").then(|| path.to_owned())
    }

    /// The full URL, password included: for connecting only, never for logs.
    pub fn expose(&self) -> &str {
        &self.url
    }

    /// The URL with any password replaced by `***`, safe to log and show.
    pub fn redacted(&self) -> String {
        redact(&self.url)
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Replaces the password (in the user part or a `password=` query
/// parameter) with `***`. A URL that does not parse is hidden whole when it
/// might hold credentials.
fn redact(raw: &str) -> String {
    let Ok(mut url) = url::Url::parse(raw) else {
        return match raw.split_once("://") {
            Some((scheme, rest)) if rest.contains('@') => format!("{scheme}://***"),
            _ => raw.to_owned(),
        };
    };
    if url.password().is_some() && url.set_password(Some("***")).is_err() {
        return format!("{}://***", url.scheme());
    }
    let secret_params = ["password", "pass", "pwd", "sslpassword"];
    if url
        .query_pairs()
        .any(|(k, _)| secret_params.contains(&k.as_ref()))
    {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if secret_params.contains(&k.as_ref()) {
                    "***".into()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string().replace("%2A%2A%2A", "***")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_files_are_found() {
        let path = |u: &str| DatabaseUrl::parse(u).unwrap().sqlite_path();
        assert_eq!(
            path("sqlite:///var/kiln/k.db?mode=rwc").as_deref(),
            Some("/var/kiln/k.db")
        );
        assert_eq!(
            path("sqlite://data/kiln.db").as_deref(),
            Some("data/kiln.db")
        );
        assert_eq!(path("sqlite::memory:"), None);
        assert_eq!(path("postgres://u@h/db"), None);
    }

    #[test]
    fn recognises_the_three_backends() {
        let cases = [
            ("sqlite://data/kiln.db", DatabaseKind::Sqlite),
            ("sqlite::memory:", DatabaseKind::Sqlite),
            ("postgres://kiln@localhost/kiln", DatabaseKind::Postgres),
            ("postgresql://kiln:pw@db:5432/kiln", DatabaseKind::Postgres),
            ("mysql://root@127.0.0.1:3306/kiln", DatabaseKind::MySql),
            ("MySQL://root@127.0.0.1/kiln", DatabaseKind::MySql),
        ];
        for (url, kind) in cases {
            assert_eq!(DatabaseUrl::parse(url).unwrap().kind(), kind, "{url}");
        }
    }

    #[test]
    fn mariadb_is_spelled_mysql_for_the_driver() {
        let url = DatabaseUrl::parse("mariadb://root@localhost/kiln").unwrap();
        assert_eq!(url.kind(), DatabaseKind::MySql);
        assert_eq!(url.expose(), "mysql://root@localhost/kiln");
    }

    #[test]
    fn rejects_what_it_cannot_use() {
        assert_eq!(DatabaseUrl::parse("  "), Err(DatabaseUrlError::Empty));
        assert_eq!(
            DatabaseUrl::parse("redis://localhost"),
            Err(DatabaseUrlError::UnsupportedScheme("redis".into()))
        );
        assert!(matches!(
            DatabaseUrl::parse("postgres://u:secret@localhost"),
            Err(DatabaseUrlError::MissingDatabase(m)) if !m.contains("secret")
        ));
        assert!(DatabaseUrl::parse("sqlite://").is_err());
    }

    #[test]
    fn urls_without_a_scheme_are_errors_not_panics() {
        for raw in ["postgres", "sqlite", "kiln.db", "/var/lib/kiln.db"] {
            assert!(matches!(
                DatabaseUrl::parse(raw),
                Err(DatabaseUrlError::UnsupportedScheme(_))
            ));
        }
    }

    #[test]
    fn hides_awkward_passwords_too() {
        let url =
            DatabaseUrl::parse("postgres://kiln:p%2Fw@db/kiln?password=other&sslmode=require")
                .unwrap();
        let shown = url.redacted();
        assert!(
            !shown.contains("p%2Fw") && !shown.contains("other"),
            "{shown}"
        );
        assert!(shown.contains("sslmode=require"), "{shown}");
    }

    #[test]
    fn never_shows_the_password() {
        let url =
            DatabaseUrl::parse("postgres://kiln:hunter2@db:5432/kiln?sslmode=disable").unwrap();
        assert_eq!(
            url.redacted(),
            "postgres://kiln:***@db:5432/kiln?sslmode=disable"
        );
        assert!(!format!("{url:?} {url}").contains("hunter2"));
        let no_password = DatabaseUrl::parse("mysql://root@localhost/kiln").unwrap();
        assert_eq!(no_password.redacted(), "mysql://root@localhost/kiln");
    }

    #[test]
    fn sqlite_file_creates_missing_files() {
        let url = DatabaseUrl::sqlite_file("/var/lib/kiln/kiln.db");
        assert_eq!(url.expose(), "sqlite:///var/lib/kiln/kiln.db?mode=rwc");
        assert_eq!(url.kind(), DatabaseKind::Sqlite);
    }
}
