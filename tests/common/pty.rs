//! A program on a new pseudo-terminal (its controlling terminal, standard input, output and
//! error), driven by a small Python script: `steps` of ["expect", text] (wait for text),
//! ["send", text] (type it), ["sendcmd", shell command] (run it with the transcript so far in
//! `$TRANSCRIPT` and type what it prints, e.g. an envelope made from a code the program
//! showed) and ["kill", "TERM"] (send the program a signal). Needs python3.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

/// The driver: runs the command on a new pseudo-terminal and plays the steps, then prints the
/// whole transcript, the terminal's echo and canonical-mode flags as the program left them, and
/// the exit status as the last line.
const DRIVER: &str = r#"
import json, os, pty, select, signal, subprocess, sys, termios, time
steps = json.loads(sys.argv[1]); cmd = sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(cmd[0], cmd)
seen = b""
def read_some(limit):
    global seen
    r, _, _ = select.select([fd], [], [], limit)
    if not r:
        return False
    try:
        data = os.read(fd, 65536)
    except OSError:
        return None
    if not data:
        return None
    seen += data
    return True
for kind, text in steps:
    if kind == "send":
        os.write(fd, text.encode()); time.sleep(0.05); continue
    if kind == "sendcmd":
        env = dict(os.environ, TRANSCRIPT=seen.decode(errors="replace"))
        out = subprocess.run(["sh", "-c", text], env=env, capture_output=True).stdout
        for i in range(0, len(out), 512):
            os.write(fd, out[i:i + 512]); time.sleep(0.02)
        time.sleep(0.05); continue
    if kind == "kill":
        os.kill(pid, getattr(signal, "SIG" + text)); continue
    end = time.time() + 120
    while text.encode() not in seen:
        if time.time() > end or read_some(0.5) is None:
            sys.stdout.write(seen.decode(errors="replace"))
            sys.stdout.write("\nDRIVER: never saw %r\nEXIT 99\n" % text); sys.exit(0)
while read_some(60) is not None:
    pass
_, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode(errors="replace"))
lflag = termios.tcgetattr(fd)[3]
sys.stdout.write("\nTERMINAL echo=%d icanon=%d\n" % (bool(lflag & termios.ECHO), bool(lflag & termios.ICANON)))
sys.stdout.write("\nEXIT %d\n" % os.waitstatus_to_exitcode(status))
"#;

/// Run the `custody` binary with `args` on a pseudo-terminal, playing `steps`: the transcript
/// (everything it showed, then the terminal flags) and its exit status (negative: the signal
/// that ended it; 99: an expected text never came).
pub fn drive(steps: &[(&str, String)], args: &[&str]) -> (String, i32) {
    let program = OsStr::new(env!("CARGO_BIN_EXE_custody"));
    let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    drive_program(steps, program, &args, &mut |_| {})
}

/// [`drive`] for any `program` (an absolute path) and `args`; `setup` adjusts the command
/// before it runs (working folder, environment), and the program inherits what it sets.
pub fn drive_program(
    steps: &[(&str, String)],
    program: &OsStr,
    args: &[&OsStr],
    setup: &mut dyn FnMut(&mut Command),
) -> (String, i32) {
    assert!(Path::new(program).is_absolute(), "{program:?}");
    let steps: Vec<[&str; 2]> = steps.iter().map(|(k, t)| [*k, t.as_str()]).collect();
    let json = serde_json::to_string(&steps).unwrap();
    let mut cmd = Command::new("python3");
    cmd.arg("-c").arg(DRIVER).arg(json).arg(program).args(args);
    setup(&mut cmd);
    let out = cmd
        .output()
        .expect("python3 is needed for the terminal tests");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let code = text
        .trim_end()
        .rsplit_once("EXIT ")
        .and_then(|(_, c)| c.trim().parse().ok())
        .unwrap_or(-1);
    (text, code)
}
