// The prices and prediction the score-prediction command's tests score (unit and spawned).

// Minute closes from 0 to 600 s; the 2-step prediction made at 480 covers 480 -> 540 (+10 %) and 540 -> 600.
export const prices = {
  BTC: Array.from({ length: 11 }, (_, i) => [i * 60, i === 9 ? 110 : i === 10 ? 99 : 100]),
  ETH: [[0, 3000]],
};
export const normal = { type: 'builtin', name: 'norm', params: { loc: 0, scale: 0.1 } };
export const prediction = { asset: 'BTC', horizon: 120, step: 60, performed_at: 480, distributions: [normal, normal] };
const phi = (x: number) => Math.exp(-0.5 * (x / 0.1) ** 2) / (0.1 * Math.sqrt(2 * Math.PI));
// The mean pdf of the two observed log-returns, ln(110/100) and ln(99/110), under N(0, 0.1).
export const expectedScore = (phi(Math.log(1.1)) + phi(Math.log(99 / 110))) / 2;
