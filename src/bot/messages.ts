import type { PromptReport } from '../pipeline/stable-diffusion.js';
import { schedulerLabelOrName } from '../schedulers/index.js';
import type { JobOperation, JobRecord } from '../store/index.js';
import { fitLines, fitMessage, quote, type MessagePart } from './discord-text.js';

/** Names of the result buttons a job may come from, as messages show them. */
export const operationLabels: Readonly<Record<JobOperation, string>> = {
  'vary-subtle': 'Vary (Subtle)',
  'vary-strong': 'Vary (Strong)',
  'upscale-hires': 'Upscale ×2',
};

/** What a job is, in a word or two: `Imagine`, `Remix`, `Vary (Subtle)`, `Upscale ×2`. */
export function jobLabel(record: Pick<JobRecord, 'kind' | 'operation'>): string {
  if (record.operation) return operationLabels[record.operation];
  return record.kind === 'remix' ? 'Remix' : 'Imagine';
}

/** One line of a job's main parameters. */
export function parameterLine(record: JobRecord): string {
  const parts = [
    `seed \`${record.seed}\``,
    `${record.width}×${record.height}`,
    `${record.steps} steps`,
    schedulerLabelOrName(record.scheduler),
    `CFG ${record.guidance}`,
  ];
  if (record.kind === 'remix') parts.push(`strength ${record.strength}`);
  if (record.count > 1) parts.push(`${record.count} images`);
  if (record.operation) parts.unshift(operationLabels[record.operation]);
  return parts.join(' · ');
}

/** `7 s`, `2 min`: a rough duration for people. */
export function roughDuration(ms: number): string {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  return seconds < 90 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
}

/** Text of a waiting job, with its expected wait when known. */
export function queuedText(record: JobRecord, position: number, expectedWaitMs?: number): string {
  const wait = expectedWaitMs !== undefined ? ` · about ${roughDuration(expectedWaitMs)}` : '';
  const place = position <= 0 ? 'starting…' : `queued — position **${position}**${wait}`;
  return fitMessage([`⏳ ${jobLabel(record)} **`, quote(record.prompt, 120), `**: ${place}`]);
}

/**
 * Text of a running job. From the second step on it estimates the time left from the pace so far (the first
 * step alone includes the text encoder and cold kernels).
 */
export function progressText(record: JobRecord, step: number, totalSteps: number, elapsedMs: number): string {
  const filled = totalSteps > 0 ? Math.round((step / totalSteps) * 12) : 0;
  const bar = `${'█'.repeat(filled)}${'░'.repeat(12 - filled)}`;
  const left = step >= 2 && step < totalSteps ? ` · about ${roughDuration((elapsedMs / step) * (totalSteps - step))} left` : '';
  return fitMessage([
    '🎨 **',
    quote(record.prompt, 120),
    `** — step ${step}/${totalSteps} \`${bar}\` ${(elapsedMs / 1000).toFixed(1)} s${left}`,
  ]);
}

/** Text of a delivered job. */
export function resultText(record: JobRecord, prompt?: PromptReport, negativePrompt?: PromptReport): string {
  const truncated = (which: string, report: PromptReport | undefined): MessagePart[][] =>
    report?.truncated
      ? [
          [
            `⚠️ The ${which} has ${report.tokenCount} tokens, more than the ${report.maxTokens} read; ignored: “`,
            quote(report.droppedText, 200),
            '”',
          ],
        ]
      : [];
  return fitLines([
    [`<@${record.userId}> **`, quote(record.prompt, 300), '**'],
    parameterLine(record),
    ...truncated('prompt', prompt),
    ...truncated('negative prompt', negativePrompt),
  ]);
}

/** Text of a job that failed or was cancelled; `reason` is the bot's own text. */
export function failedText(record: JobRecord, reason: string): string {
  return fitMessage(['❌ **', quote(record.prompt, 120), `** — ${reason}`]);
}

/** Everything about a job, for the Info button (ephemeral). */
export function infoText(record: JobRecord, modelName: string): string {
  const sampler = `${schedulerLabelOrName(record.scheduler)} (\`${record.scheduler}\`)`;
  return fitLines([
    ['**Prompt:** ', quote(record.prompt)],
    record.negativePrompt ? ['**Negative prompt:** ', quote(record.negativePrompt)] : '**Negative prompt:** (none)',
    `**Seed:** \`${record.seed}\``,
    `**Size:** ${record.width}×${record.height} · **Steps:** ${record.steps} · **Sampler:** ${sampler} · **CFG scale:** ${record.guidance}`,
    ...(record.operation
      ? [`**Made with:** ${operationLabels[record.operation]}${record.parentJobId ? ` of job \`${record.parentJobId}\`` : ''}`]
      : []),
    ...(record.kind === 'remix' ? [`**Remix strength:** ${record.strength}`] : []),
    ...(record.emphasis !== 'original' ? [`**Emphasis:** \`${record.emphasis}\` (how weights like \`(word:1.2)\` were read)`] : []),
    ['**Model:** ', quote(modelName, 200), ` · **Images:** ${record.count} · **Job:** \`${record.id}\``],
    'The PNGs carry these parameters in AUTOMATIC1111 format ("PNG Info").',
  ]);
}

/** Result file names: `latentcord-<seed>.png`, or `-1`, `-2`, … for several. */
export function resultFileNames(record: JobRecord, count: number): string[] {
  const stem = `latentcord-${record.seed}`;
  return count === 1 ? [`${stem}.png`] : Array.from({ length: count }, (_, i) => `${stem}-${i + 1}.png`);
}
