package io.ollamabalancer.server;

import io.netty.channel.unix.Errors;
import io.ollamabalancer.config.ConfigException;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/**
 * Turns "address already in use" into the operator's mistake it is: a {@link ConfigException} naming the port and
 * the option that chose it (the CLI prints it as one line and exits 2), instead of a transport exception with an
 * errno in it. Stateless.
 */
public final class PortInUse {
    /** Linux's EADDRINUSE, as Netty's native transport reports it (negated errno). */
    private static final int EADDRINUSE = -98;

    private PortInUse() {
    }

    /** The readable mistake when {@code failure} says the port is taken, else {@code null}. */
    static ConfigException describe(Throwable failure, int port, String flag) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof BindException
                    || t instanceof Errors.NativeIoException n && n.expectedErr() == EADDRINUSE) {
                return new ConfigException("port " + port + " is already in use (" + flag + ")");
            }
        }
        return null;
    }

    /**
     * Fails with the readable mistake when {@code port} on {@code bind} cannot be bound now; for a caller that must
     * know before it starts anything else (the demo starts its simulators only after). Port 0 is always free.
     */
    public static void check(String bind, int port, String flag) {
        if (port == 0) {
            return;
        }
        try (ServerSocket probe = new ServerSocket()) {
            // As Netty's listener will: a port in TIME_WAIT is free to bind.
            probe.setReuseAddress(true);
            probe.bind(new InetSocketAddress(bind, port));
        } catch (IOException e) {
            ConfigException readable = describe(e, port, flag);
            if (readable != null) {
                throw readable;
            }
            throw new ConfigException("cannot listen on " + bind + ":" + port + " (" + flag + "): " + e.getMessage());
        }
    }
}
