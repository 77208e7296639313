package io.starling.server.admin;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The paging of every list of the admin API: query {@code offset} (default 0) and {@code limit} (default
 * {@value #DEFAULT_LIMIT}, at most {@value #MAX_LIMIT}); answered as {@code {"total", "offset", "limit", "items"}}.
 *
 * @param offset items skipped
 * @param limit most items returned
 */
record Paging(int offset, int limit) {

    static final int DEFAULT_LIMIT = 50;
    static final int MAX_LIMIT = 1000;

    /** The paging asked for by {@code req}; 400 naming {@code offset} or {@code limit} when out of range. */
    static Paging of(AdminRequest req) {
        return new Paging(req.intParam("offset", 0, 0, Integer.MAX_VALUE),
                req.intParam("limit", DEFAULT_LIMIT, 1, MAX_LIMIT));
    }

    /** The items of this page among {@code all}. */
    <T> List<T> slice(List<T> all) {
        int from = Math.min(offset, all.size());
        int to = (int) Math.min((long) from + limit, all.size());
        return all.subList(from, to);
    }

    /** The answer: the total and this page's items. */
    Map<String, Object> page(long total, List<?> items) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("total", total);
        m.put("offset", offset);
        m.put("limit", limit);
        m.put("items", items);
        return m;
    }
}
