/**
 * Step 2: the Ollama and OpenAI surface. {@link io.ollamabalancer.api.RouteTable} says for each path whether it is
 * model-routed, merged over the fleet, local or passed through; {@link io.ollamabalancer.api.ErrorBodies} writes the
 * error bodies Ollama and OpenAI clients expect; {@link io.ollamabalancer.api.FleetResponses} merges the fleet-wide
 * answers byte-exactly. No Netty types.
 */
package io.ollamabalancer.api;
