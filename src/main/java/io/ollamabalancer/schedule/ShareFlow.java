package io.ollamabalancer.schedule;

/**
 * Who a waiting request's work is charged to for fair share: one flow per API key (its name and weight), and one
 * default flow, of weight 1, for every request that came without a key. Immutable.
 *
 * @param name   the flow's identity (the key's name; {@code ""} for the default flow)
 * @param weight the flow's share relative to the others' (positive; 1 is the default flow's)
 */
public record ShareFlow(String name, double weight) {
    /** The flow of requests without an API key. */
    public static final ShareFlow DEFAULT = new ShareFlow("", 1.0);

    public ShareFlow {
        if (name == null) {
            throw new IllegalArgumentException("name must not be null");
        }
        if (!(weight > 0) || Double.isInfinite(weight)) {
            throw new IllegalArgumentException("weight must be a positive number, not " + weight);
        }
    }
}
