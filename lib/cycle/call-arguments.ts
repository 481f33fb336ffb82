import type { CallArgument } from '../game/index.js';
import type { Value } from '../model-runner/index.js';

function toValue(arg: CallArgument): Value {
  if (arg.type === 'INT' && !Number.isInteger(arg.value))
    throw new TypeError(`INT argument ${arg.value} is not an integer`);
  return arg.value as Value;
}

/** A game's typed call arguments as the model-runner client takes them (it encodes integers as INT). */
export function toCallArguments(args: readonly CallArgument[]): Value[] {
  return args.map(toValue);
}
