/**
 * A small reading of a Dockerfile for the structural checks of `dockerfile.test.ts`: instructions with their
 * continuation lines joined, build stages, global `ARG` defaults and the stages each stage depends on. It
 * follows the Dockerfile reference for what it handles (default `\` escape, comment lines, `${VAR}` and
 * `$VAR` in `FROM`) and is not a general parser.
 */

/** One instruction; `line` is 1-based, the line the instruction starts on. */
export interface Instruction {
  /** Upper-case instruction name (`RUN`, `COPY`, …). */
  readonly keyword: string;
  /** The rest of the instruction, continuation lines joined with single spaces. */
  readonly args: string;
  /** Line the instruction starts on, 1-based. */
  readonly line: number;
}

/** A build stage: its `FROM` and the instructions up to the next `FROM`. */
export interface Stage {
  /** Position among the stages, from 0. */
  readonly index: number;
  /** `AS` name, lower-cased as Docker treats it; `undefined` for an unnamed stage. */
  readonly name: string | undefined;
  /** The base as written (`${NODE_IMAGE}`, `build`, `debian:12`). */
  readonly baseWritten: string;
  /** The base with global `ARG` defaults substituted. */
  readonly base: string;
  /** Instructions after `FROM`. */
  readonly instructions: readonly Instruction[];
}

/** What {@link parseDockerfile} reads. */
export interface DockerfileModel {
  /** `ARG` defaults declared before the first `FROM` (`undefined` when declared without a default). */
  readonly globalArgs: ReadonlyMap<string, string | undefined>;
  /** Stages in file order. */
  readonly stages: readonly Stage[];
}

/** Splits Dockerfile text into instructions (comments and parser directives dropped, continuations joined). */
export function readInstructions(text: string): Instruction[] {
  const lines = text.split(/\r?\n/u);
  const instructions: Instruction[] = [];
  let pending: { start: number; parts: string[] } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const trimmed = raw.trim();
    // Comment lines are removed before continuation handling, also inside a continued instruction.
    if (trimmed.startsWith('#')) continue;
    if (pending === undefined && trimmed === '') continue;
    const continues = /\\\s*$/u.test(raw);
    const part = continues ? raw.replace(/\\\s*$/u, '').trim() : trimmed;
    if (pending === undefined) pending = { start: i + 1, parts: [] };
    if (part !== '') pending.parts.push(part);
    if (!continues) {
      const joined = pending.parts.join(' ');
      const match = /^(\S+)\s*(.*)$/su.exec(joined);
      if (match) instructions.push({ keyword: match[1]!.toUpperCase(), args: match[2]!, line: pending.start });
      pending = undefined;
    }
  }
  if (pending !== undefined && pending.parts.length > 0) {
    const match = /^(\S+)\s*(.*)$/su.exec(pending.parts.join(' '));
    if (match) instructions.push({ keyword: match[1]!.toUpperCase(), args: match[2]!, line: pending.start });
  }
  return instructions;
}

/** Replaces `${NAME}`, `${NAME:-default}` and `$NAME` with values from `args`; unknown names become ''. */
export function substituteArgs(text: string, args: ReadonlyMap<string, string | undefined>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/gu, (_m, braced, fallback, bare) => {
    const name = (braced ?? bare) as string;
    const value = args.get(name);
    return value !== undefined && value !== '' ? value : ((fallback as string | undefined) ?? '');
  });
}

/** Reads `NAME=value` / `NAME` pairs of an `ARG` instruction (one or several, values may be double-quoted). */
export function parseArgInstruction(args: string): Array<[string, string | undefined]> {
  const pairs: Array<[string, string | undefined]> = [];
  for (const match of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)(?:=("(?:[^"\\]|\\.)*"|\S*))?/gu)) {
    const value = match[2];
    pairs.push([match[1]!, value === undefined ? undefined : value.replace(/^"(.*)"$/su, '$1')]);
  }
  return pairs;
}

/** Reads `KEY=value` pairs of an `ENV` or `LABEL` instruction (values may be double-quoted). */
export function parseKeyValues(args: string): Map<string, string> {
  const pairs = new Map<string, string>();
  for (const match of args.matchAll(/([A-Za-z0-9_.-]+)=("(?:[^"\\]|\\.)*"|\S*)/gu)) {
    pairs.set(match[1]!, match[2]!.replace(/^"(.*)"$/su, '$1'));
  }
  return pairs;
}

/** Splits `--flag=value` options off the front of instruction arguments. */
export function splitFlags(args: string): { flags: Map<string, string>; rest: string } {
  const flags = new Map<string, string>();
  let rest = args.trim();
  for (;;) {
    const match = /^--([A-Za-z-]+)(?:=(\S*))?\s*/u.exec(rest);
    if (!match) break;
    flags.set(match[1]!, match[2] ?? '');
    rest = rest.slice(match[0].length);
  }
  return { flags, rest };
}

/** Reads a Dockerfile's global `ARG`s and its stages. */
export function parseDockerfile(text: string): DockerfileModel {
  const globalArgs = new Map<string, string | undefined>();
  const stages: Stage[] = [];
  let current: { name: string | undefined; baseWritten: string; base: string; instructions: Instruction[] } | undefined;
  const finish = (): void => {
    if (current) stages.push({ index: stages.length, ...current });
  };
  for (const instruction of readInstructions(text)) {
    if (instruction.keyword === 'FROM') {
      finish();
      const { rest } = splitFlags(instruction.args);
      const match = /^(\S+)(?:\s+AS\s+(\S+))?\s*$/iu.exec(rest);
      if (!match) throw new Error(`line ${instruction.line}: cannot read FROM ${instruction.args}`);
      current = {
        name: match[2]?.toLowerCase(),
        baseWritten: match[1]!,
        base: substituteArgs(match[1]!, globalArgs),
        instructions: [],
      };
    } else if (current === undefined) {
      if (instruction.keyword === 'ARG') for (const [name, value] of parseArgInstruction(instruction.args)) globalArgs.set(name, value);
    } else {
      current.instructions.push(instruction);
    }
  }
  finish();
  return { globalArgs, stages };
}

/** The stage a `FROM` base or `COPY --from` names, if it is one of the stages before `before`. */
export function findStage(model: DockerfileModel, reference: string, before: number): Stage | undefined {
  const lower = reference.toLowerCase();
  return model.stages.find((stage) => stage.index < before && (stage.name === lower || String(stage.index) === lower));
}

/** The stages `stage` is built from (its `FROM`) or copies from (`COPY --from`), directly. */
export function directDependencies(model: DockerfileModel, stage: Stage): Stage[] {
  const found = new Set<Stage>();
  const base = findStage(model, stage.base, stage.index);
  if (base) found.add(base);
  for (const instruction of stage.instructions) {
    if (instruction.keyword !== 'COPY' && instruction.keyword !== 'ADD') continue;
    const from = splitFlags(instruction.args).flags.get('from');
    if (from === undefined) continue;
    const source = findStage(model, from, stage.index);
    if (source) found.add(source);
  }
  return [...found];
}

/** `target` and every stage it needs, i.e. what `docker build --target <target>` builds. */
export function stagesBuiltFor(model: DockerfileModel, target: string): Set<Stage> {
  const start = model.stages.find((stage) => stage.name === target.toLowerCase());
  if (!start) throw new Error(`no stage named ${target}`);
  const seen = new Set<Stage>();
  const queue: Stage[] = [start];
  while (queue.length > 0) {
    const stage = queue.pop()!;
    if (seen.has(stage)) continue;
    seen.add(stage);
    queue.push(...directDependencies(model, stage));
  }
  return seen;
}

/** An image reference split into repository, tag and digest. */
export interface ImageReference {
  /** Repository including registry and namespace, e.g. `nvidia/cuda`. */
  readonly repository: string;
  /** Tag, or `undefined` when none is written. */
  readonly tag: string | undefined;
  /** `sha256:…` digest, or `undefined`. */
  readonly digest: string | undefined;
}

/** Splits `registry/name:tag@sha256:…` (a `:` after the last `/` starts the tag). */
export function parseImageReference(reference: string): ImageReference {
  const [named, digest] = reference.split('@', 2) as [string, string | undefined];
  const slash = named.lastIndexOf('/');
  const colon = named.indexOf(':', slash + 1);
  return colon === -1
    ? { repository: named, tag: undefined, digest }
    : { repository: named.slice(0, colon), tag: named.slice(colon + 1), digest };
}

/**
 * Shell commands of a `RUN` (shell form): split on `&&`, `||`, `;` and `|`, each trimmed, with leading
 * `NAME=value` environment assignments kept (they matter for `ONNXRUNTIME_NODE_INSTALL`).
 */
export function runCommands(args: string): string[] {
  const { rest } = splitFlags(args);
  return rest
    .split(/&&|\|\||;|\|/u)
    .map((command) => command.trim().replace(/\s+/gu, ' '))
    .filter((command) => command !== '');
}
