package io.starling.server.admin;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.starling.broker.topic.Subscription;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * {@code GET /api/v1/subscriptions}: the subscriptions of the subscription index (which every thread may read), sorted
 * by client id then filter; {@code filter} exact, or a prefix when it ends with {@code *}; {@code clientId} exact.
 */
final class SubscriptionsApi {

    private final Supplier<AdminContext> ctx;

    SubscriptionsApi(Supplier<AdminContext> ctx) {
        this.ctx = ctx;
    }

    void register(AdminRouter router) {
        router.api(HttpMethod.GET, "/api/v1/subscriptions", this::list);
    }

    CompletionStage<FullHttpResponse> list(AdminRequest req) {
        Paging paging = Paging.of(req);
        String filter = req.param("filter");
        String clientId = req.param("clientId");
        boolean prefix = filter != null && filter.endsWith("*");
        String f = prefix ? filter.substring(0, filter.length() - 1) : filter;
        List<Subscription> all = new ArrayList<>();
        ctx.get().broker().subscriptionIndex().forEach(s -> {
            if (clientId != null && !clientId.isEmpty() && !clientId.equals(s.clientId())) {
                return;
            }
            if (f != null && !f.isEmpty() && !(prefix ? s.filter().startsWith(f) : s.filter().equals(f))) {
                return;
            }
            all.add(s);
        });
        all.sort(Comparator.comparing(Subscription::clientId).thenComparing(Subscription::filter));
        List<Map<String, Object>> items = new ArrayList<>();
        for (Subscription s : paging.slice(all)) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("clientId", s.clientId());
            m.put("filter", s.filter());
            m.put("qos", s.qos());
            m.put("shareName", s.shareGroup());
            items.add(m);
        }
        return AdminRouter.now(Responses.ok(paging.page(all.size(), items)));
    }
}
