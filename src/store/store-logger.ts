/** The part of a pino logger the store uses (`logger.child({ module: 'store' })` fits). */
export interface StoreLogger {
  /** Something odd but harmless, e.g. an unknown setting left in the database by a newer version. */
  warn(details: Record<string, unknown>, message: string): void;
  /** Routine events, e.g. a migration applied. */
  info(details: Record<string, unknown>, message: string): void;
}

/** Default logger: warnings become process warnings, info is dropped. */
export const processWarningLogger: StoreLogger = {
  warn(details, message) {
    process.emitWarning(`${message} ${JSON.stringify(details)}`, 'LatentcordStoreWarning');
  },
  info() {},
};
