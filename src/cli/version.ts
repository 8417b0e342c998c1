/** The package version (kept in step with package.json by test/cli/version.test.ts) and what `--version` prints. */
import { nativeStatus } from '../native/binding.js';

export const VERSION = '0.1.0';

/**
 * What `udpkit --version` prints: the version, then `native: yes` or `native: no (why)`. An
 * install that skipped the addon (npm 11 runs no install scripts for a global tarball install
 * unless allowed) still works, on the slower node:dgram path; this says so.
 * @example versionText() // '0.1.0\nnative: yes\n'
 */
export function versionText(): string {
  return `${VERSION}\nnative: ${nativeStatus()}\n`;
}
