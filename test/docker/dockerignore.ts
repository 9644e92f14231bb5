/**
 * `.dockerignore` matching as the Docker build context does it (moby's patternmatcher): patterns are paths
 * relative to the context root with `*` and `?` inside one path segment and `**` across segments; a pattern
 * also matches everything below a folder it matches; `!` re-includes; the last pattern that matches decides.
 */

interface Rule {
  readonly negated: boolean;
  readonly regex: RegExp;
}

function globToRegex(pattern: string): RegExp {
  let source = '';
  const segments = pattern.split('/');
  segments.forEach((segment, i) => {
    const last = i === segments.length - 1;
    if (segment === '**') {
      source += last ? '.*' : '(?:.*/)?';
      return;
    }
    for (const char of segment) {
      if (char === '*') source += '[^/]*';
      else if (char === '?') source += '[^/]';
      else source += char.replace(/[.+^${}()|[\]\\]/gu, '\\$&');
    }
    if (!last) source += '/';
  });
  return new RegExp(`^${source}$`, 'u');
}

function cleanPattern(pattern: string): string {
  return pattern
    .replace(/^\/+/u, '')
    .replace(/\/+$/u, '')
    .split('/')
    .filter((segment) => segment !== '.' && segment !== '')
    .join('/');
}

/** Reads `.dockerignore` text into a predicate: `true` when the context path (e.g. `src/cli/main.ts`) is sent. */
export function dockerignore(text: string): (path: string) => boolean {
  const rules: Rule[] = [];
  for (const rawLine of text.split(/\r?\n/u)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const negated = line.startsWith('!');
    const pattern = cleanPattern(negated ? line.slice(1).trim() : line);
    if (pattern === '') continue;
    rules.push({ negated, regex: globToRegex(pattern) });
  }
  return (path: string): boolean => {
    const clean = cleanPattern(path);
    const parts = clean.split('/');
    // The path itself and each folder above it.
    const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const rule of rules) {
      if (candidates.some((candidate) => rule.regex.test(candidate))) excluded = !rule.negated;
    }
    return !excluded;
  };
}
