/**
 * Logging that never makes a caller wait for the log output: {@link io.ollamabalancer.logging.NonBlockingAppender}
 * (a bounded queue in front of logback's console appenders, drained by a writer thread of its own) and
 * {@link io.ollamabalancer.logging.DroppedLines} (what it had to drop, for {@code /metrics} and a warning at most once
 * a minute). {@link io.ollamabalancer.logging.Logs#stop()} writes out what is queued when the process ends.
 * Wired in {@code src/main/resources/logback.xml}.
 */
package io.ollamabalancer.logging;
