/**
 * `npm run bench`: figures on the tiny fixture model through the same pipeline process, job runner and bot
 * process the bot uses. Prints medians of several runs; asserts nothing (timings depend on the machine).
 *
 *   node dist/bench/run.js [--runs N] [--sizes 128,256] [--steps 20] [--model DIR] [--soak-jobs 200]
 *                          [--ort-cache DIR] [--sections generation,prompts,throughput,startup,soak,scale,memory,readiness,remixburst | all]
 */
import { parseArgs } from 'node:util';
import { isUserError } from '../src/errors.js';
import { defaultRuntimeOptions } from '../src/runtime/session-factory.js';
import { tinyModelDir } from '../test/helpers/fixtures.js';
import type { BenchOptions } from './common.js';
import { generationSection } from './generation.js';
import { memorySection } from './memory.js';
import { machineLoad } from './proc-stats.js';
import { promptLengthSection } from './prompt-length.js';
import { remixBurstSection } from './remix-burst.js';
import { readinessSection } from './readiness.js';
import { scaleSection } from './scale.js';
import { soakSection } from './soak.js';
import { startupSection } from './startup.js';
import { throughputSection } from './throughput.js';

const sectionRunners = {
  generation: generationSection,
  prompts: promptLengthSection,
  throughput: throughputSection,
  startup: startupSection,
  soak: soakSection,
  remixburst: remixBurstSection,
  memory: memorySection,
  readiness: readinessSection,
  scale: scaleSection,
} as const satisfies Record<string, (options: BenchOptions) => Promise<void>>;
type SectionName = keyof typeof sectionRunners;

const usage = `Usage: npm run bench -- [--runs N] [--sizes 128,256] [--steps 20] [--model DIR] [--soak-jobs 200]
                        [--ort-cache DIR] [--sections generation,prompts,throughput,startup,soak,scale,memory,readiness,remixburst | all]

Prints medians of several runs on the tiny fixture model (or --model DIR); see docs/benchmarks.md.
--ort-cache DIR keeps onnxruntime's optimised graphs there between runs (as runtime.cacheOptimizedModels does).
--decoder vae|tiny picks the final decoder; --tiny-decoder DIR a tiny decoder outside the model folder.`;

function exitWithUsage(error: unknown): never {
  console.error(`${(error as Error).message}\n\n${usage}`);
  process.exit(2);
}

function parseCommandLine() {
  try {
    return parseArgs({
      options: {
        runs: { type: 'string', default: '5' },
        sizes: { type: 'string', default: '128,256' },
        steps: { type: 'string', default: '20' },
        model: { type: 'string', default: tinyModelDir },
        'soak-jobs': { type: 'string', default: '200' },
        sections: { type: 'string', default: 'generation,prompts' },
        'ort-cache': { type: 'string' },
        decoder: { type: 'string' },
        'tiny-decoder': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    exitWithUsage(error);
  }
}

const { values } = parseCommandLine();
if (values.help) {
  console.log(usage);
  process.exit(0);
}

function positiveInteger(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`Expected \`--${name}\` to be a positive integer, got \`${text}\``);
  return value;
}

function decoderOption(text: string | undefined): 'vae' | 'tiny' {
  if (text === undefined || text === 'vae' || text === 'tiny') return text ?? 'vae';
  throw new Error(`Expected \`--decoder\` to be vae or tiny, got \`${text}\``);
}

function chosenSections(text: string): SectionName[] {
  const all = Object.keys(sectionRunners) as SectionName[];
  if (text === 'all') return all;
  const names = text
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  for (const name of names) {
    if (!(all as string[]).includes(name)) throw new Error(`Unknown section \`${name}\`; expected some of ${all.join(', ')} (or \`all\`)`);
  }
  return all.filter((name) => names.includes(name));
}

const { log: _log, ...runtime } = defaultRuntimeOptions;
let options: BenchOptions;
let sections: SectionName[];
try {
  options = {
    runs: positiveInteger('runs', values.runs!),
    steps: positiveInteger('steps', values.steps!),
    sizes: values.sizes!.split(',').map((size) => positiveInteger('sizes', size)),
    model: values.model!,
    runtime: values['ort-cache'] ? { ...runtime, optimizedModelCacheDir: values['ort-cache'] } : runtime,
    soakJobs: positiveInteger('soak-jobs', values['soak-jobs']!),
    engine: {
      finalDecoder: decoderOption(values.decoder),
      ...(values['tiny-decoder'] ? { tinyDecoderDir: values['tiny-decoder'] } : {}),
    },
  };
  sections = chosenSections(values.sections!);
} catch (error) {
  exitWithUsage(error);
}

console.log(`# latentcord benchmark — node ${process.version}, ${new Date().toISOString()}, ${machineLoad()}`);
for (const name of sections) {
  const started = performance.now();
  try {
    await sectionRunners[name](options);
  } catch (error) {
    // A user error (e.g. a missing model folder) is a message; anything else keeps its stack.
    console.error(`\nsection ${name} failed: ${isUserError(error) ? error.message : ((error as Error).stack ?? String(error))}`);
    process.exit(1);
  }
  console.log(`\n(section ${name}: ${((performance.now() - started) / 1000).toFixed(1)} s; ${machineLoad()})`);
}
