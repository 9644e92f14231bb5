/** Prefix of every `custom_id` this bot creates; anything else is not ours. */
export const customIdPrefix = 'lc';

/** What a button or form does, carried in its `custom_id` as `lc:<action>:<parts…>`. */
export type ComponentAction =
  | 'reroll'
  | 'remix'
  | 'info'
  | 'delete'
  | 'cancel'
  | 'vary-subtle'
  | 'vary-strong'
  | 'upscale'
  | 'remix-modal'
  | 'remix-message-modal'
  | 'history';

/** Builds a `custom_id` (Discord allows 100 characters; job ids are 36). */
export function customId(action: ComponentAction, ...parts: string[]): string {
  return [customIdPrefix, action, ...parts].join(':');
}

/** Splits one of our `custom_id`s, or returns undefined for foreign ones. */
export function parseCustomId(id: string): { action: string; parts: string[] } | undefined {
  const [prefix, action, ...parts] = id.split(':');
  if (prefix !== customIdPrefix || !action) return undefined;
  return { action, parts };
}
