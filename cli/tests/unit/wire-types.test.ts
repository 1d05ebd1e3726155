import { describe, expectTypeOf, it } from 'vitest';
import type { EventBridgeEvent as ClientEvent } from '../../../client/events.js';
import type { RuntimeNames } from '../../../client/runtime-description.js';
import type { EventBridgeEvent as BusEvent } from '../../../local/aws/eventbridge/bus.js';
import type { LocalNames } from '../../../local/names.js';

/**
 * The client module states the shapes the runtime writes and answers with on its own, so that it imports nothing
 * of local/; `tsc --noEmit` (in npm test) holds them to what the runtime really produces.
 */
describe('client wire types', () => {
  it("match the local bus's events and the runtime's names", () => {
    expectTypeOf<ClientEvent>().toEqualTypeOf<BusEvent>();
    expectTypeOf<LocalNames>().toExtend<RuntimeNames>();
  });
});
