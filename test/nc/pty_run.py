"""Runs a command in a pseudo-terminal, as a student types it, and says whether it gave the prompt back.

Usage: python3 pty_run.py JSON, with JSON = {"argv": [...], "send": ["QUIT"], "until": "^221 ",
"watch": 2, "afterwards": "ctrl-d" | null, "bound": 20}: waits for `until` in the output (if given),
types each line of `send` (Enter is a carriage return, as a terminal sends it), waits for `until`
again, then watches `watch` seconds for the command to end; if it did not and `afterwards` is "ctrl-d",
types Ctrl-D and waits up to `bound` seconds. Prints {"exitedAlone", "exitedAfterCtrlD", "output"}.
"""
import json, os, pty, re, select, signal, sys, time

spec = json.loads(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(spec["argv"][0], spec["argv"])

out = b""
done = False


def pump(seconds, pattern=None):
    """Reads output for up to `seconds`; stops early when `pattern` shows or the command ends."""
    global out, done
    end = time.time() + seconds
    while time.time() < end and not done:
        if pattern and re.search(pattern, out.decode(errors="replace"), re.M):
            return True
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                out += os.read(fd, 4096)
            except OSError:
                pass
        if os.waitpid(pid, os.WNOHANG)[0]:
            done = True
    return bool(pattern and re.search(pattern, out.decode(errors="replace"), re.M))


bound = spec.get("bound", 20)
until = spec.get("until")
if spec.get("send"):
    pump(bound, spec.get("ready", "."))
    for line in spec["send"]:
        os.write(fd, line.encode() + b"\r")
if until:
    pump(bound, until)
pump(spec.get("watch", 2))
alone = done
after = None
if not done and spec.get("afterwards") == "ctrl-d":
    os.write(fd, b"\x04")
    pump(bound)
    after = done
if not done:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
print(json.dumps({"exitedAlone": alone, "exitedAfterCtrlD": after, "output": out.decode(errors="replace")}))
