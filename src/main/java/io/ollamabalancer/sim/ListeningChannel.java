package io.ollamabalancer.sim;

import io.netty.channel.socket.nio.NioServerSocketChannel;

/**
 * The simulator's listening socket. It exists to answer one question Netty does not expose: has the operating system
 * really let go of a closed socket? NIO keeps the file descriptor of a closed but selector-registered socket open
 * until the selector's next select, and until then the kernel still completes connects. Threading as its superclass.
 */
final class ListeningChannel extends NioServerSocketChannel {

    /** True once the JDK channel is deregistered from its selector, i.e. its descriptor is closed. */
    boolean released() {
        return !isOpen() && !javaChannel().isRegistered();
    }
}
