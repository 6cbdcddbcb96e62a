//! `--help` with examples: an "Examples:" block after the help of every
//! command and subcommand, kept here by the command's path so that `main.rs`
//! stays a list of commands. A command that brings its own `after_help`
//! keeps it.

use clap::Command;

/// The examples of each command, by its path below `plaza` ("" is `plaza`).
const EXAMPLES: &[(&str, &str)] = &[
    (
        "",
        "plaza new my-clinic                      # a mini-app to start from (docs/tutorial.md)
  plaza test my-clinic/scenarios           # build it and run its scenario
  plaza pack my-clinic -o my-clinic.plaza  # build, then pack manifest and component
  plaza keygen -o publisher.key && plaza sign my-clinic.plaza --key publisher.key
  plaza run my-clinic.plaza --user ann     # install and click through it as text
  plaza completions bash > ~/.local/share/bash-completion/completions/plaza",
    ),
    (
        "new",
        "plaza new my-clinic
  plaza new city-news --template service-account
  plaza new tea-shop --template payment --id cn.hz.teashop
  plaza new hotel-finder --lang ts          # or js, python (rust is the default)
  plaza new apps/tea-shop --sdk-path ~/src/plaza/crates/sdk",
    ),
    (
        "completions",
        "plaza completions bash > ~/.local/share/bash-completion/completions/plaza
  plaza completions zsh > ~/.zfunc/_plaza       # with fpath+=~/.zfunc in ~/.zshrc
  plaza completions fish > ~/.config/fish/completions/plaza.fish",
    ),
    (
        "build",
        "plaza build .                            # prints the component's path
  plaza build sample-miniapps/hospital --quiet
  plaza build my-shop                      # JS/TS/Python: the world from plaza.toml, pinned toolchains",
    ),
    (
        "pack",
        "plaza pack .                             # writes ./APP-ID-VERSION.plaza
  plaza pack my-clinic -o my-clinic.plaza
  plaza pack . --component app.wasm -o app.plaza   # a component built by another toolchain",
    ),
    (
        "inspect",
        "plaza inspect my-clinic.plaza
  plaza inspect my-clinic.plaza --json",
    ),
    (
        "install",
        "plaza install my-clinic.plaza
  PLAZA_DEVELOPER_MODE=1 plaza install unsigned.plaza   # development only: runs as unverified
  plaza install my-clinic.plaza --store /tmp/plaza.db",
    ),
    ("uninstall", "plaza uninstall com.example.my-clinic"),
    (
        "release-id",
        "plaza release-id com.example.my-clinic     # after `plaza uninstall`: erases its users' data",
    ),
    ("list", "plaza list\n  plaza list --json"),
    (
        "run",
        "plaza run com.example.my-clinic --user ann            # actions from stdin: tap ACTION, ...
  plaza run my-clinic.plaza --script walk.txt --pay confirm
  plaza run my-clinic.plaza --user ann --record walk.toml   # then `plaza test walk.toml`",
    ),
    (
        "open",
        "plaza open plaza://cn.hz.maternity/checkin?clinic=obstetrics --user ann
  plaza open 'plaza://cn.hz.maternity/dept/obstetrics' --user ann --script walk.txt --pay confirm
  plaza open https://plaza.example.cn/a/cn.hz.maternity/bookings --link-base https://plaza.example.cn/a/ --user ann",
    ),
    (
        "test",
        "plaza test                                # in a mini-app's folder: its scenarios
  plaza test tests/scenarios --filter refund --show
  plaza test tests/scenarios --junit results.xml --jobs 2",
    ),
    (
        "bench",
        "plaza bench --quick
  plaza bench --only event call --json
  plaza bench --only languages --package notes-js.plaza --package notes-py.plaza",
    ),
    (
        "audit",
        "plaza audit --user ann
  plaza audit --app com.example.my-clinic --limit 20 --json",
    ),
    (
        "keygen",
        "plaza keygen -o publisher.key            # publisher.key (secret) and publisher.key.pub",
    ),
    (
        "sign",
        "plaza sign my-clinic.plaza --key publisher.key
  plaza sign my-clinic.plaza --key publisher.key -o signed.plaza",
    ),
    (
        "verify",
        "plaza verify my-clinic.plaza                          # against the store's registry
  plaza verify my-clinic.plaza --public-key publisher.key.pub",
    ),
    (
        "publisher",
        "plaza publisher add com.example --name \"Example Clinic\" --category medical --key publisher.key.pub --verified
  plaza publisher list",
    ),
    (
        "publisher add",
        "plaza publisher add com.example --name \"Example Clinic\" --category medical --key publisher.key.pub --verified
  plaza publisher add cn.hz.shop --name \"Tea Shop\" --category commerce --key 3f9a...e1",
    ),
    ("publisher list", "plaza publisher list\n  plaza publisher list --json"),
    ("publisher remove", "plaza publisher remove com.example"),
    (
        "grants",
        "plaza grants list --user ann
  plaza grants revoke --user ann cn.hz.maternity real-name",
    ),
    ("grants list", "plaza grants list --user ann --json"),
    (
        "grants revoke",
        "plaza grants revoke --user ann cn.hz.maternity real-name",
    ),
    (
        "grants set",
        "plaza grants set --user ann cn.hz.maternity real-name allow
  plaza grants set --user ann cn.hz.maternity location deny",
    ),
    (
        "privacy",
        "plaza privacy report --user ann
  plaza privacy export --user ann --out ann.json
  plaza privacy erase --user ann --app cn.hz.maternity",
    ),
    (
        "privacy report",
        "plaza privacy report --user ann
  plaza privacy report --user ann --app cn.hz.maternity --json",
    ),
    (
        "privacy export",
        "plaza privacy export --user ann --out ann.json
  plaza privacy export --user ann --app cn.hz.maternity",
    ),
    (
        "privacy erase",
        "plaza privacy erase --user ann --app cn.hz.maternity
  plaza privacy erase --user ann             # every mini-app that knows ann",
    ),
    (
        "user",
        "plaza user set --user ann --nickname Ann --phone 13800138000
  plaza user show --user ann",
    ),
    (
        "user set",
        "plaza user set --user ann --nickname Ann --phone 13800138000
  plaza user set --user ann --real-name \"Li Na\" --id-number 330106199001010022 --verified
  plaza user set --user ann --location 30.274,120.155",
    ),
    ("user show", "plaza user show --user ann"),
    (
        "config",
        "plaza config set cn.gov.hz.city agency-origin https://records.hz.gov.cn
  plaza config set cn.gov.hz.city agency-api-key --secret < key.txt
  plaza config list cn.gov.hz.city",
    ),
    (
        "config set",
        "plaza config set cn.gov.hz.city agency-origin https://records.hz.gov.cn
  plaza config set cn.gov.hz.city agency-api-key --secret < key.txt",
    ),
    (
        "config unset",
        "plaza config unset cn.gov.hz.city agency-origin",
    ),
    ("config list", "plaza config list cn.gov.hz.city --json"),
    ("secret", "plaza secret reset com.example.my-clinic"),
    ("secret reset", "plaza secret reset com.example.my-clinic"),
    (
        "login",
        "plaza login exchange com.example.my-clinic CODE --secret APP-SECRET",
    ),
    (
        "login exchange",
        "plaza login exchange com.example.my-clinic CODE --secret APP-SECRET --json",
    ),
    (
        "wallet",
        "plaza wallet topup --user ann --amount 100
  plaza wallet balance --user ann
  plaza wallet history --user ann",
    ),
    (
        "wallet topup",
        "plaza wallet topup --user ann --amount 100
  plaza wallet topup --user ann --amount 12.50 --json",
    ),
    ("wallet balance", "plaza wallet balance --user ann"),
    (
        "wallet history",
        "plaza wallet history --user ann --limit 10",
    ),
    (
        "insurance",
        "plaza insurance bind --user ann --card 3301-0001 --holder \"Li Na\" --coverage 70 --annual-cap 3000
  plaza insurance show --user ann",
    ),
    (
        "insurance bind",
        "plaza insurance bind --user ann --card 3301-0001 --holder \"Li Na\" --coverage 70 --annual-cap 3000",
    ),
    ("insurance show", "plaza insurance show --user ann --json"),
    ("ledger", "plaza ledger verify"),
    (
        "ledger verify",
        "plaza ledger verify\n  plaza ledger verify --json\n  plaza ledger verify --full",
    ),
    (
        "inbox",
        "plaza inbox --user ann
  plaza inbox --user ann --unread --json
  plaza inbox --user ann --mark-read MESSAGE-ID",
    ),
    ("follow", "plaza follow --user ann cn.gov.hz.city"),
    ("unfollow", "plaza unfollow --user ann cn.gov.hz.city"),
    (
        "write",
        "plaza write --user ann cn.hz.maternity \"Is it safe to fly at 30 weeks?\"",
    ),
];

/// The examples of the command at `path`, if any.
pub fn examples(path: &str) -> Option<&'static str> {
    EXAMPLES.iter().find(|(p, _)| *p == path).map(|(_, e)| *e)
}

/// Adds the "Examples:" block to `cmd` and every subcommand below it that has
/// examples here and no `after_help` of its own.
pub fn with_examples(cmd: Command) -> Command {
    decorate(cmd, "")
}

fn decorate(mut cmd: Command, path: &str) -> Command {
    if cmd.get_after_help().is_none()
        && let Some(text) = examples(path)
    {
        let header = *cmd.get_styles().get_header();
        cmd = cmd.after_help(format!("{header}Examples:{header:#}\n  {text}"));
    }
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for name in names {
        let sub_path = if path.is_empty() {
            name.clone()
        } else {
            format!("{path} {name}")
        };
        cmd = cmd.mut_subcommand(&name, |s| decorate(s, &sub_path));
    }
    cmd
}

#[cfg(test)]
mod tests {
    fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
        let help = cmd
            .get_after_help()
            .map(|h| h.to_string())
            .unwrap_or_default();
        if !help.contains("Examples:") || !help.contains("plaza ") {
            missing.push(if path.is_empty() {
                "plaza".into()
            } else {
                path.to_string()
            });
        }
        for sub in cmd.get_subcommands() {
            let sub_path = format!("{path} {}", sub.get_name()).trim().to_string();
            walk(sub, &sub_path, missing);
        }
    }

    #[test]
    fn every_command_and_subcommand_has_examples() {
        let mut missing = Vec::new();
        walk(&crate::cli_command(), "", &mut missing);
        assert!(missing.is_empty(), "no examples for: {missing:?}");
    }

    #[test]
    fn every_example_names_its_own_command() {
        for (path, text) in super::EXAMPLES {
            for line in text.lines() {
                let line = line.trim();
                assert!(
                    line.starts_with(&format!("plaza {path}"))
                        || line.starts_with("PLAZA_")
                        || path.is_empty(),
                    "an example of `{path}` runs something else: {line}"
                );
            }
        }
    }
}
