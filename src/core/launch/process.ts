import { readdirSync, readFileSync } from 'node:fs';

// Clock ticks per second of /proc start times: 100 on every mainstream Linux build.
const CLOCK_TICKS = 100;
/**
 * How much later than a run's recorded start its process may appear to have started. /proc times
 * are boot time + ticks (about 1 s of rounding), and clock adjustments shift them a little.
 */
const START_SLACK_MS = 10_000;

let bootTimeMs: number | undefined;

function bootTime(): number | undefined {
  if (bootTimeMs === undefined) {
    try {
      const btime = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
      if (btime) bootTimeMs = Number(btime[1]) * 1000;
    } catch {
      return undefined;
    }
  }
  return bootTimeMs;
}

interface ProcStat {
  state: string;
  group: number;
  startMs: number | undefined;
}

/** State and wall-clock start of a process from /proc/<pid>/stat (Linux); undefined when unknown. */
function procStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may itself contain spaces and parentheses.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const boot = bootTime();
  const ticks = Number(fields[19]);
  return {
    state: fields[0] ?? '',
    group: Number(fields[2]),
    startMs: boot !== undefined && Number.isFinite(ticks) ? boot + (ticks * 1000) / CLOCK_TICKS : undefined,
  };
}

/** Wall-clock start of a process, when the platform tells (Linux). */
export const processStartMs = (pid: number): number | undefined => procStat(pid)?.startMs;

function exists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether `pid` is still the process a run recorded: it exists, is not a zombie, and did not
 * start after `notAfterMs` (a later start means the pid was reused by another program).
 */
export function isSameProcess(pid: number, notAfterMs: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0 || !exists(pid)) return false;
  const stat = procStat(pid);
  if (!stat) return true;
  if (isZombie(stat.state)) return false;
  return stat.startMs === undefined || stat.startMs <= notAfterMs + START_SLACK_MS;
}

const isZombie = (state: string): boolean => state === 'Z' || state === 'X';

/** Whether any live process of the group led by `pid` is left. */
export function groupExists(pid: number): boolean {
  try {
    process.kill(-pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // Zombies waiting to be reaped still answer signal 0; on Linux, look for a live member.
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return true;
  }
  return entries.some((entry) => {
    if (!/^\d+$/.test(entry)) return false;
    const stat = procStat(Number(entry));
    return stat !== undefined && stat.group === pid && !isZombie(stat.state);
  });
}

/**
 * Whether `pid` leads its own process group, as runs launched by Runboard do. A script that
 * recorded itself through the Python client may share its shell's group instead.
 */
export function isGroupLeader(pid: number): boolean {
  const stat = procStat(pid);
  if (stat) return stat.group === pid;
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function signalProcess(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Signals a whole process group (a training script and whatever it started); false when it is gone. */
export function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));
