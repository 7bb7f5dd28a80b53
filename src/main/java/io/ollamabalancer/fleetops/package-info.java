/**
 * Fleet operations: requests that reach several backends and are answered as one Ollama would. Merged lists
 * ({@link io.ollamabalancer.fleetops.FleetAggregator}: {@code /api/tags}, {@code /api/ps}, {@code /v1/models},
 * {@code /api/version}), model loads and unloads ({@link io.ollamabalancer.fleetops.ModelLoadFanout}), and model
 * management: {@link io.ollamabalancer.fleetops.FleetOperations} is its entry point; each operation is one
 * small class ({@code FleetPull}, {@code FleetDelete}, {@code FleetCopy}, {@code FleetCreate}) choosing its targets
 * ({@code FleetTargets}); {@code ProgressFanout} and {@code ReplyFanout} run the calls and answer, and
 * {@link io.ollamabalancer.fleetops.PullProgressMerger} (pure logic) merges progress streams. Depends on backend,
 * upstream, relay (the client-side exchange contract) and api; never on server.
 */
package io.ollamabalancer.fleetops;
