/**
 * Fleet operations: model management that reaches several backends and answers the client as one Ollama would.
 * {@link io.ollamabalancer.fleetops.FleetOperations} is the entry point the server routes to; each operation is one
 * small class ({@code FleetPull}, {@code FleetDelete}, {@code FleetCopy}, {@code FleetCreate}) choosing its targets
 * ({@code FleetTargets}); {@code ProgressFanout} and {@code ReplyFanout} run the calls and answer, and
 * {@link io.ollamabalancer.fleetops.PullProgressMerger} (pure logic) merges progress streams. Depends on backend,
 * upstream, relay (the client-side exchange contract) and api; never on server.
 */
package io.ollamabalancer.fleetops;
