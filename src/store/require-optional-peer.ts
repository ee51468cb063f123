import { FastroAIError } from '../errors/fastroai-error';

/**
 * Loads an optional peer package (`ioredis`, `pg`) when a store needs it, so that importing
 * fastroai never loads it.
 * @param pkg the package name
 * @param range the major to install, for the message (`5` → `npm install ioredis@5`)
 * @param user what needs it, for the message (`RedisRunStore`)
 * @throws FastroAIError naming the package and the install command when it is not installed
 */
export function requireOptionalPeer<T>(pkg: string, range: string, user: string): T {
  try {
    // A dynamic require: the package is an optional peer, absent unless the user installs it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(pkg) as T;
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    const message = (error as { message?: unknown } | null)?.message;
    if (code === 'MODULE_NOT_FOUND' && typeof message === 'string' && message.includes(pkg)) {
      throw new FastroAIError(`${user} needs the optional package ${pkg}, which is not installed. Install it with: npm install ${pkg}@${range}`, {
        cause: error,
      });
    }
    throw error;
  }
}
