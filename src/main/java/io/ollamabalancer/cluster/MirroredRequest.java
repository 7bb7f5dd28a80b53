package io.ollamabalancer.cluster;

/**
 * One waiting request as the queue mirror in Redis shows it. Immutable.
 *
 * @param replica          the replica that holds the client connection
 * @param requestId        the request's id on that replica
 * @param priority         larger first
 * @param orderEpochMillis smaller first within a priority (enqueue time, wall clock)
 * @param promptTokens     estimated prompt tokens
 * @param outputTokens     estimated output tokens
 */
public record MirroredRequest(String replica, long requestId, int priority, long orderEpochMillis,
                              int promptTokens, int outputTokens) {

    static String member(long requestId, int promptTokens, int outputTokens) {
        return requestId + "|" + promptTokens + "|" + outputTokens;
    }

    static MirroredRequest parse(String replica, String member, long score) {
        String[] p = member.split("\\|", -1);
        long id = Long.parseLong(p[0]);
        int prompt = p.length > 1 ? Integer.parseInt(p[1]) : 0;
        int out = p.length > 2 ? Integer.parseInt(p[2]) : 0;
        return new MirroredRequest(replica, id, QueueScore.priority(score), QueueScore.orderEpochMillis(score),
                prompt, out);
    }
}
