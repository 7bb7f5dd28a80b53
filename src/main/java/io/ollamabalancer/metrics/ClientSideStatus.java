package io.ollamabalancer.metrics;

/**
 * The client side's limits now, as {@code /metrics} shows them. Immutable.
 *
 * @param openConnections     client connections open
 * @param refusedConnections  connections refused since start for being above {@code --max-client-connections}
 * @param bodyBytesHeld       request-body bytes held in memory now (the {@code --max-inflight-body-bytes} budget in use)
 * @param bodyBytesLimit      that budget
 * @param refusedBodies       requests refused since start because their body did not fit in the budget
 */
public record ClientSideStatus(int openConnections, long refusedConnections, long bodyBytesHeld, long bodyBytesLimit,
                               long refusedBodies) {
    /** For a balancer that reports none (tests, tools). */
    public static final ClientSideStatus NONE = new ClientSideStatus(0, 0, 0, 0, 0);
}
