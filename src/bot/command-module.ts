import type {
  AutocompleteInteraction,
  ChatInputCommandInteraction,
  MessageContextMenuCommandInteraction,
  RESTPostAPIChatInputApplicationCommandsJSONBody,
  RESTPostAPIContextMenuApplicationCommandsJSONBody,
} from 'discord.js';
import type { BotContext } from './context.js';

/** A slash command (discord.js guide's `data` + `execute`): its registration payload and its handler. */
export interface SlashCommandModule {
  readonly kind: 'slash';
  /** What `deploy-commands` registers. */
  readonly data: RESTPostAPIChatInputApplicationCommandsJSONBody;
  /** Handles one use of the command. Throwing a UserError shows its message privately to the user. */
  execute(interaction: ChatInputCommandInteraction, context: BotContext): Promise<void>;
  /** Suggests option values while the user types. */
  autocomplete?(interaction: AutocompleteInteraction, context: BotContext): Promise<void>;
}

/** A command in a message's Apps menu: its registration payload and its handler. */
export interface MessageCommandModule {
  readonly kind: 'message';
  /** What `deploy-commands` registers. */
  readonly data: RESTPostAPIContextMenuApplicationCommandsJSONBody;
  /** Handles one use of the command on `interaction.targetMessage`. Throwing a UserError shows its message privately. */
  execute(interaction: MessageContextMenuCommandInteraction, context: BotContext): Promise<void>;
}

/** One Discord command, typed by the interaction it handles so no handler starts with a cast. */
export type CommandModule = SlashCommandModule | MessageCommandModule;
