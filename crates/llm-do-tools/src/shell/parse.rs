//! From a command line to an argument vector, without a shell.
//!
//! The raw text is checked first: shell syntax that would mean something to a shell — pipes,
//! redirections, command lists, background jobs, command substitution, `${..}` expansion,
//! newlines and other control characters — is refused *anywhere* in it, inside quotes too.
//! (Quoted metacharacters would be harmless, since no shell ever sees the text; refusing them
//! keeps one simple rule for the model and for the approval policy, which matches the raw
//! text.) What remains is split into words by [`shell_words::split`], which implements the
//! POSIX quoting rules (`'..'`, `".."`, backslash escapes, `#` comments) and nothing else: no
//! variable, glob, tilde or brace expansion, so `$HOME`, `*.md` and `~` are passed literally.

use crate::error::ToolError;

/// The longest command accepted, in bytes.
pub const MAX_COMMAND_BYTES: usize = 8 * 1024;

/// The most arguments (program included) a command may have.
pub const MAX_ARGS: usize = 256;

/// Splits a command line into its program and arguments, refusing shell syntax.
///
/// ```
/// use llm_do_tools::shell::parse_command;
/// assert_eq!(parse_command("grep -rn 'two words' src").unwrap(), ["grep", "-rn", "two words", "src"]);
/// assert_eq!(parse_command("echo $HOME *.md").unwrap(), ["echo", "$HOME", "*.md"], "no expansion");
/// assert!(parse_command("ls | wc -l").is_err());
/// assert!(parse_command("echo 'a;b'").is_err(), "refused inside quotes too");
/// ```
pub fn parse_command(command: &str) -> Result<Vec<String>, ToolError> {
    if command.len() > MAX_COMMAND_BYTES {
        return Err(ToolError::CommandTooLong { len: command.len(), max: MAX_COMMAND_BYTES });
    }
    if let Some(found) = find_shell_syntax(command) {
        return Err(ToolError::ShellSyntax { found });
    }
    let argv = shell_words::split(command)
        .map_err(|_| ToolError::Parse { reason: "a quote is not closed".into() })?;
    if argv.is_empty() {
        return Err(ToolError::EmptyCommand);
    }
    if argv.len() > MAX_ARGS {
        return Err(ToolError::TooManyArguments { count: argv.len(), max: MAX_ARGS });
    }
    Ok(argv)
}

/// The [`ToolError::ShellSyntax`] `command` would be refused with, if any.
pub(crate) fn shell_syntax(command: &str) -> Option<ToolError> {
    find_shell_syntax(command).map(|found| ToolError::ShellSyntax { found })
}

/// The first piece of shell syntax in `command`, described for the model.
fn find_shell_syntax(command: &str) -> Option<String> {
    let mut chars = command.chars().peekable();
    while let Some(c) = chars.next() {
        let found = match c {
            '|' => "`|` (a pipe or `||`)",
            ';' => "`;` (a command list)",
            '&' => "`&` (`&&` or a background job)",
            '>' | '<' => "`>` or `<` (a redirection)",
            '`' => "a backtick (command substitution)",
            '$' if matches!(chars.peek(), Some('(' | '{')) => {
                "`$(` or `${` (command substitution or parameter expansion)"
            }
            '\n' | '\r' => "a line break (commands are one line)",
            c if c.is_control() && c != '\t' => "a control character",
            _ => continue,
        };
        return Some(found.to_owned());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_quoted_words() {
        assert_eq!(parse_command("  git   log  -3 ").unwrap(), ["git", "log", "-3"]);
        assert_eq!(
            parse_command(r#"echo "a b" 'c d' e\ f"#).unwrap(),
            ["echo", "a b", "c d", "e f"]
        );
        assert_eq!(parse_command("echo a # comment").unwrap(), ["echo", "a"]);
        assert_eq!(parse_command("echo a#b").unwrap(), ["echo", "a#b"]);
        assert_eq!(
            parse_command("echo $ $HOME ~ (x)").unwrap(),
            ["echo", "$", "$HOME", "~", "(x)"]
        );
    }

    #[test]
    fn shell_syntax_is_refused_anywhere() {
        for bad in [
            "ls | wc",
            "ls; rm x",
            "a && b",
            "a || b",
            "a & b",
            "a > f",
            "a < f",
            "echo `id`",
            "echo $(id)",
            "echo ${HOME}",
            "a\nb",
            "a\rb",
            "echo 'a|b'",
            "echo \"$(id)\"",
            "a\u{7}b",
        ] {
            assert!(
                matches!(parse_command(bad), Err(ToolError::ShellSyntax { .. })),
                "{bad:?} must be refused"
            );
        }
    }

    #[test]
    fn malformed_empty_and_oversized_commands_are_refused() {
        assert!(matches!(parse_command("echo 'open"), Err(ToolError::Parse { .. })));
        assert!(matches!(parse_command("echo \"open"), Err(ToolError::Parse { .. })));
        assert_eq!(
            parse_command("echo a\\").unwrap(),
            ["echo", "a\\"],
            "a trailing backslash is literal"
        );
        assert!(matches!(parse_command("   "), Err(ToolError::EmptyCommand)));
        assert!(matches!(parse_command("# only a comment"), Err(ToolError::EmptyCommand)));
        let long = format!("echo {}", "a".repeat(MAX_COMMAND_BYTES));
        assert!(matches!(parse_command(&long), Err(ToolError::CommandTooLong { .. })));
        let many = format!("echo {}", "a ".repeat(MAX_ARGS));
        assert!(matches!(parse_command(&many), Err(ToolError::TooManyArguments { .. })));
    }
}
