#!/usr/bin/env node
// Restores package-lock.json entries for optional, platform-specific packages that `npm install`
// leaves out when the registry it talks to does not carry them (some mirrors hold only the
// linux builds). Without the entries, `npm ci` refuses the lock file ("Missing: … from lock file").
// The entries have no tarball: npm skips them on other platforms and never downloads them.
// A no-op when the lock file is already complete.
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const packages = lock.packages;
const platform = /-(darwin|linux|win32|freebsd|android|linux-musl)-(x64|arm64|arm|ia32)$/;
let added = 0;
for (const [key, entry] of Object.entries(packages)) {
  for (const [dep, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const depKey = `node_modules/${dep}`;
    if (packages[depKey] || (key && packages[`${key}/node_modules/${dep}`])) continue;
    const m = platform.exec(dep);
    if (!m) continue;
    packages[depKey] = { version, cpu: [m[2]], license: 'MIT', optional: true, os: [m[1].replace('linux-musl', 'linux')] };
    added += 1;
  }
}
lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(added === 0 ? 'lock file complete' : `added ${added} optional platform entries`);
