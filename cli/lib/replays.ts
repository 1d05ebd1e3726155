/** Starting and following replays: the client module's (shared with the console). */
export * from '../../client/replays.js';
