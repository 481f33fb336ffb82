/**
 * The game a coordinator plays when nothing says otherwise: the `GAME` setting's default, and the game of a
 * workflow started by hand without one. A file of its own so workflows can import it without the games.
 */
export const defaultGameId = 'condor';
