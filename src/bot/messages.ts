import { escapeMarkdown } from 'discord.js';
import { schedulerLabelOrName } from '../schedulers/index.js';
import type { JobRecord } from '../store/index.js';
import type { PromptReport } from '../pipeline/stable-diffusion.js';

const ellipsis = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/** The prompt as shown in messages: markdown escaped, one line, bounded. */
export function shownPrompt(prompt: string, max = 300): string {
  return escapeMarkdown(ellipsis(prompt.replace(/\s+/g, ' '), max));
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
  return `⏳ ${record.kind === 'remix' ? 'Remix' : 'Imagine'} **${shownPrompt(record.prompt, 120)}**: ${place}`;
}

/**
 * Text of a running job. From the second step on it estimates the time left from the pace so far (the first
 * step alone includes the text encoder and cold kernels).
 */
export function progressText(record: JobRecord, step: number, totalSteps: number, elapsedMs: number): string {
  const filled = totalSteps > 0 ? Math.round((step / totalSteps) * 12) : 0;
  const bar = `${'█'.repeat(filled)}${'░'.repeat(12 - filled)}`;
  const left = step >= 2 && step < totalSteps ? ` · about ${roughDuration((elapsedMs / step) * (totalSteps - step))} left` : '';
  return `🎨 **${shownPrompt(record.prompt, 120)}** — step ${step}/${totalSteps} \`${bar}\` ${(elapsedMs / 1000).toFixed(1)} s${left}`;
}

/** Text of a delivered job. */
export function resultText(record: JobRecord, prompt?: PromptReport, negativePrompt?: PromptReport): string {
  const lines = [`<@${record.userId}> **${shownPrompt(record.prompt)}**`, parameterLine(record)];
  for (const [which, report] of [
    ['prompt', prompt],
    ['negative prompt', negativePrompt],
  ] as const) {
    if (report?.truncated)
      lines.push(
        `⚠️ The ${which} has ${report.tokenCount} tokens, more than the ${report.maxTokens} read; ignored: “${shownPrompt(report.droppedText, 200)}”`,
      );
  }
  return lines.join('\n');
}

/** Text of a job that failed or was cancelled. */
export function failedText(record: JobRecord, reason: string): string {
  return `❌ **${shownPrompt(record.prompt, 120)}** — ${reason}`;
}

/** Everything about a job, for the Info button (ephemeral). */
export function infoText(record: JobRecord, modelName: string): string {
  const lines = [
    `**Prompt:** ${shownPrompt(record.prompt, 1500)}`,
    record.negativePrompt ? `**Negative prompt:** ${shownPrompt(record.negativePrompt, 800)}` : '**Negative prompt:** (none)',
    `**Seed:** \`${record.seed}\``,
    `**Size:** ${record.width}×${record.height} · **Steps:** ${record.steps} · **Sampler:** ${schedulerLabelOrName(record.scheduler)} (\`${record.scheduler}\`) · **CFG scale:** ${record.guidance}`,
  ];
  if (record.kind === 'remix') lines.push(`**Remix strength:** ${record.strength}`);
  lines.push(`**Model:** ${escapeMarkdown(modelName)} · **Images:** ${record.count} · **Job:** \`${record.id}\``);
  lines.push('The PNGs carry these parameters in AUTOMATIC1111 format ("PNG Info").');
  return lines.join('\n');
}

/** Result file names: `latentcord-<seed>.png`, or `-1`, `-2`, … for several. */
export function resultFileNames(record: JobRecord, count: number): string[] {
  const stem = `latentcord-${record.seed}`;
  return count === 1 ? [`${stem}.png`] : Array.from({ length: count }, (_, i) => `${stem}-${i + 1}.png`);
}
