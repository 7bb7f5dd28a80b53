/**
 * The scheduling benchmark (outside the data path): seeded traces, their replay in virtual time through the real
 * scheduler and over real sockets, an offline oracle, and the report. Nothing here runs inside the balancer.
 *
 * <p>Start with {@link io.ollamabalancer.replay.TraceGenerator} (what a trace is: Poisson arrivals, a model and
 * priority mix, log-normal prompts, and answer lengths the simulator will produce, from
 * {@link io.ollamabalancer.replay.SimAnswers}), then {@link io.ollamabalancer.replay.VirtualReplay} (the
 * discrete-event replay: the balancer's own parser, estimator and scheduler against
 * {@link io.ollamabalancer.replay.SimFleet}'s timing model), {@link io.ollamabalancer.replay.OracleReplay} (true
 * lengths, earliest finish), {@link io.ollamabalancer.replay.PlacementOracle} (the oracle on a memory-limited
 * fleet's best static placement), {@link io.ollamabalancer.replay.ReplayClient} (the same trace over real sockets) and
 * {@link io.ollamabalancer.replay.SchedulingBench} (the matrix, the targets and the Markdown). The CLI is
 * {@code ollama-balancer replay trace|run|bench}; {@code bench/scheduling.sh} drives it.
 */
package io.ollamabalancer.replay;
