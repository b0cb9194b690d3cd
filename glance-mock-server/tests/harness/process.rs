//! The mock's binary as a child process, killed when its guard drops.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// Kills (SIGKILL) the process when dropped, and waits for it: a failing
/// test leaves no server behind.
pub struct Killed(pub Child);

impl Killed {
    pub fn id(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `command`, started and guarded at once.
pub fn spawn(command: &mut Command) -> Killed {
    Killed(command.spawn().expect("process starts"))
}

/// The binary (built by cargo for these tests).
pub fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_glance-mock-server"))
}

/// The binary on a free port with `args`; its URL once it listens.
pub fn spawn_binary<I, S>(args: I) -> (Killed, String)
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let bind = ["--bind", "127.0.0.1:0"].map(std::ffi::OsString::from);
    let args = args.into_iter().map(|a| a.as_ref().to_owned());
    spawn_listening(bind.into_iter().chain(args))
}

/// The binary with exactly `args`; its URL once it says it listens.
pub fn spawn_listening<I, S>(args: I) -> (Killed, String)
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut child = spawn(
        binary()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit()),
    );
    let stdout = child.0.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("a first line");
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    (child, url)
}
