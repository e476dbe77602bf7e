import { safe } from '../contain.js';
import { readKeys } from './read.js';

/** `Redis#sendCommand`, as the stock instrumentation leaves it. */
export type SendCommand = (this: unknown, command: unknown) => unknown;

/** The fields of an ioredis `Command` used here. */
interface Command {
  name: unknown;
  args: unknown;
  reject: (this: unknown, err: unknown) => unknown;
}

interface Sending {
  returned: boolean;
}

/**
 * `sendCommand` made to see the reads that ioredis rejects inside the call itself (a client
 * after `quit()`, or offline with `enableOfflineQueue: false`): the stock instrumentation wraps
 * a command's `reject` only after `sendCommand` returns, so such a read's span never ends.
 * `rejected` gets the read command's arguments (they carry its read) and must be contained.
 */
export function seeingEarlyRejections(send: SendCommand, rejected: (args: unknown[]) => void): SendCommand {
  // Made once per patch: per read, the only allocations are the state and the reject wrapper.
  const watch = safe('cache ioredis send', (command: unknown): Sending | undefined => {
    const cmd = command as Partial<Command> | null;
    if (typeof cmd !== 'object' || cmd === null || typeof cmd.reject !== 'function' || !Array.isArray(cmd.args)) return undefined;
    if (typeof cmd.name !== 'string' || readKeys(cmd.name, cmd.args.length) === undefined) return undefined;
    const sending: Sending = { returned: false };
    const { reject, args } = cmd as Command & { args: unknown[] };
    cmd.reject = function (this: unknown) {
      if (!sending.returned) rejected(args);
      return reject.apply(this, arguments as unknown as [unknown]);
    };
    return sending;
  });
  return function (this: unknown) {
    const sending = watch(arguments[0]);
    try {
      return send.apply(this, arguments as unknown as [unknown]);
    } finally {
      if (sending !== undefined) sending.returned = true;
    }
  };
}
