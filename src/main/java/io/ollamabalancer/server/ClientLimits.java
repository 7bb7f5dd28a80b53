package io.ollamabalancer.server;

import io.ollamabalancer.config.BalancerConfig;
import io.ollamabalancer.metrics.ClientSideStatus;

/**
 * What every client connection of the process shares, across listening ports: the cap on connections and the
 * budget of request-body bytes in memory. Made once per balancer; thread-safe.
 */
public final class ClientLimits {
    private final ConnectionCap connections;
    private final BodyBudget bodies;

    ClientLimits(BalancerConfig config) {
        this.connections = new ConnectionCap(config.maxClientConnections());
        this.bodies = new BodyBudget(config.inflightBodyBudget());
    }

    ConnectionCap connections() {
        return connections;
    }

    BodyBudget bodies() {
        return bodies;
    }

    /** The numbers {@code /metrics} shows. */
    public ClientSideStatus status() {
        return new ClientSideStatus(connections.open(), connections.refused(), bodies.held(), bodies.limit(),
                bodies.refused());
    }
}
