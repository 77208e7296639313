package io.starling.cli.bench;

/**
 * What a scenario runs: how many clients of each role, on which topics.
 *
 * @param scenario the scenario name
 * @param publishers publishing clients
 * @param topicTemplate publish topic, {@code %i} = publisher index
 * @param subscribers subscribing clients
 * @param filterTemplate subscription filter, {@code %i} = subscriber index
 * @param idle connections that only connect and stay (conn, conn-ramp)
 * @param copies how many subscribers get each message (for the expected delivery count), or -1 when unknown
 * @param stamped true when the publishers are in this process, so deliveries are counted and timed by the send
 *        time in the payload; false for {@code sub} alone, where they are counted by arrival time
 */
record Plan(String scenario, int publishers, String topicTemplate, int subscribers, String filterTemplate, int idle,
        int copies, boolean stamped) {

    static String expand(String template, int index) {
        return template.replace("%i", Integer.toString(index));
    }

    /** The filter that matches every topic of a template: each {@code %i} level becomes {@code +}. */
    static String wildcardOf(String template) {
        return template.replace("%i", "+");
    }

    int total() {
        return publishers + subscribers + idle;
    }
}
