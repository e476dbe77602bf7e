import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

/**
 * Which process a state file belongs to. A pid alone is not enough: pids are reused, and a new
 * process with an exited one's pid must not be mistaken for it. The start time tells them apart:
 * on Linux the kernel's own (clock ticks since boot, field 22 of `/proc/<pid>/stat`), which any
 * other process can check; elsewhere this process's start in epoch milliseconds, which only the
 * pid check backs.
 */
export interface ProcessIdentity {
  readonly pid: number;
  readonly start: number;
  /** `<pid>-<start>`: the state file's name without extension. */
  readonly id: string;
}

interface ProcStat {
  /** One letter: R, S, D, Z (zombie), X (dead), ... */
  readonly state: string;
  /** Clock ticks since boot. */
  readonly start: number;
}

/** `/proc/<pid>/stat`'s fields 3 and 22, counted after the last `)`: the command name (field 2) may hold spaces and parentheses. */
function parseProcStat(text: string): ProcStat | undefined {
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const start = Number(fields[19]);
  return fields[0] && Number.isSafeInteger(start) ? { state: fields[0], start } : undefined;
}

let own: (ProcessIdentity & { procfs: boolean }) | undefined;

/** This process's identity (computed once). */
export function ownIdentity(): ProcessIdentity {
  return ownWithProcfs();
}

function ownWithProcfs(): ProcessIdentity & { procfs: boolean } {
  if (own === undefined) {
    let start: number | undefined;
    try {
      start = parseProcStat(readFileSync('/proc/self/stat', 'utf8'))?.start;
    } catch {
      // No procfs: the wall-clock start below.
    }
    const procfs = start !== undefined;
    start ??= Math.round(Date.now() - process.uptime() * 1000);
    own = { pid: process.pid, start, id: identityId(process.pid, start), procfs };
  }
  return own;
}

function identityId(pid: number, start: number): string {
  return `${pid}-${start}`;
}

/** A state file's id back into pid and start; `undefined` for a name that is not one. */
export function parseIdentity(id: string): ProcessIdentity | undefined {
  const m = /^(\d+)-(\d+)$/.exec(id);
  return m ? { pid: Number(m[1]), start: Number(m[2]), id } : undefined;
}

/** The identity of a running process (Linux: from procfs); `undefined` when it is not running or cannot be read. */
export async function readIdentity(pid: number): Promise<ProcessIdentity | undefined> {
  if (pid === process.pid) return ownIdentity();
  try {
    const stat = parseProcStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
    return stat && stat.state !== 'Z' && stat.state !== 'X' ? { pid, start: stat.start, id: identityId(pid, stat.start) } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether the process that wrote a state file still runs: with procfs, its pid exists, is not a
 * zombie (an exited child its parent has not reaped yet) and started when the id says; without,
 * its pid exists. Processes sharing a state directory must share a pid namespace (one host or
 * container): another namespace's pids cannot be checked.
 */
export async function isAlive(target: ProcessIdentity): Promise<boolean> {
  const self = ownWithProcfs();
  if (target.pid === self.pid) return target.start === self.start;
  if (!self.procfs) return pidExists(target.pid);
  let text: string;
  try {
    text = await readFile(`/proc/${target.pid}/stat`, 'utf8');
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? false : pidExists(target.pid);
  }
  const stat = parseProcStat(text);
  if (stat === undefined) return pidExists(target.pid);
  return stat.state !== 'Z' && stat.state !== 'X' && stat.start === target.start;
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, owned by another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
