import type {
  AutocompleteInteraction,
  ChatInputCommandInteraction,
  MessageContextMenuCommandInteraction,
  RESTPostAPIApplicationCommandsJSONBody,
} from 'discord.js';
import type { BotContext } from './context.js';

/** One Discord command: its registration payload and its handler (discord.js guide's `data` + `execute`). */
export interface CommandModule {
  /** What `deploy-commands` registers. */
  readonly data: RESTPostAPIApplicationCommandsJSONBody;
  /** Handles one use of the command. Throwing a UserError shows its message privately to the user. */
  execute(interaction: ChatInputCommandInteraction | MessageContextMenuCommandInteraction, context: BotContext): Promise<void>;
  /** Suggests option values while the user types. */
  autocomplete?(interaction: AutocompleteInteraction, context: BotContext): Promise<void>;
}
