package io.ollamabalancer.cluster;

import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;

/**
 * How components reach Redis through the node: commands only while the replica is joined, and one place to
 * report a failure (a link failure puts the replica on its own until Redis is back). Called on the cluster thread.
 */
interface RedisAccess {

    /** The command interface while joined; {@code null} while Redis is unreachable or the replica rejoins. */
    RedisClusterAsyncCommands<String, String> joinedOrNull();

    /** A command failed; {@code what} names the component for the log. */
    void failed(String what, Throwable error);
}
