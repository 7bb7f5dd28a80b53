/**
 * Step 3: bytes to {@link io.ollamabalancer.request.InferenceRequest}. {@link io.ollamabalancer.request.RequestJsonParser}
 * reads only the routing fields with jackson-core's streaming parser, answers malformed bodies with Go's error texts,
 * and never copies large values (images). No Netty types; the body itself is forwarded untouched elsewhere.
 */
package io.ollamabalancer.request;
