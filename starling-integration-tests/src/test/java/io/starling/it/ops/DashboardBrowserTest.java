package io.starling.it.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.starling.broker.auth.PasswordFile;
import io.starling.broker.auth.PasswordHash;
import io.starling.broker.config.AdminConfig;
import io.starling.broker.config.BrokerConfig;
import io.starling.server.StarlingServer;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard in a real browser: headless Chromium (Debian's {@code chromium} and {@code chromium-driver}, driven
 * through the system's {@code /usr/bin/chromedriver}, never a downloaded one) opens the page the admin listener
 * serves, against a real broker and real MQTT clients: the overview counts them and draws its charts; a connected
 * client is listed and disconnected from the page; a retained message published from the form reaches an MQTT
 * subscriber, shows in the retained browser and is deleted there; the page works behind HTTP Basic authentication; and
 * it asks no other host for anything.
 *
 * <p>One broker and one browser for the class; the tests run in order (the overview counts the sessions, which the
 * later tests leave behind) but each opens the page afresh.
 *
 * <p>Skipped only where Chromium is not installed and {@code CI} is unset; {@code bin/test} installs it. With
 * {@code -Dstarling.screenshots=DIR} (relative to the repository) it writes {@code dashboard-*.png} there.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class DashboardBrowserTest {

    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    static Path tmp;

    private StarlingServer server;
    private WebDriver driver;
    private ChromeDriverService service;
    private String base;
    private final List<MqttClient> mqtt = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    void startBrokerAndBrowser() throws IOException {
        boolean installed = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
        assumeTrue(installed || System.getenv("CI") != null,
                "chromium and chromium-driver are not installed (bin/test installs them)");
        server = StarlingServer.start(BrokerConfig.builder().bindAddress("127.0.0.1").port(0)
                .dataDir(tmp.resolve("data")).storage(BrokerConfig.Storage.MEMORY).admin(AdminConfig.loopback(0)).build());
        base = "http://127.0.0.1:" + server.adminPort() + "/";

        System.setProperty("webdriver.chrome.driver", CHROMEDRIVER.toString());
        service = new ChromeDriverService.Builder().usingDriverExecutable(new File(CHROMEDRIVER.toString()))
                .usingAnyFreePort().build();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1366,900", "--no-first-run", "--disable-background-networking", "--disable-sync",
                "--disable-component-update", "--disable-default-apps", "--lang=en-US",
                "--user-data-dir=" + Files.createDirectories(tmp.resolve("chromium-profile")));
        driver = new ChromeDriver(service, options);
    }

    @AfterAll
    void stopAll() {
        if (driver != null) {
            driver.quit();
        }
        if (service != null) {
            service.stop();
        }
        if (server != null) {
            server.close();
        }
    }

    @AfterEach
    void closeClients() {
        for (MqttClient c : mqtt) {
            try {
                if (c.isConnected()) {
                    c.disconnectForcibly(0, 50);
                }
                c.close(true);
            } catch (MqttException e) {
                // closing anyway
            }
        }
        mqtt.clear();
    }

    @Test
    @Order(1)
    void theOverviewShowsTheBrokerAndDrawsItsCharts() throws Exception {
        // two clients online, one offline session with QoS 1 messages queued for it, and some traffic
        MqttConnectionOptions away = options(false);
        away.setSessionExpiryInterval(600L);
        MqttClient gone = connect("dash-it-load-away", away, new LinkedBlockingQueue<>(), null);
        gone.subscribe("dash/it/load/#", 1);
        gone.disconnect();
        MqttClient sub = connect("dash-it-load-sub", options(true), new LinkedBlockingQueue<>(), new LinkedBlockingQueue<>());
        sub.subscribe("dash/it/load/#", 0);
        MqttClient pub = connect("dash-it-load-pub", options(true), new LinkedBlockingQueue<>(), null);
        for (int i = 0; i < 10; i++) {
            pub.publish("dash/it/load/" + i, ("m" + i).getBytes(StandardCharsets.UTF_8), 1, false);
        }

        open("#overview");
        WebDriverWait wait = new WebDriverWait(driver, WAIT);
        wait.until(ExpectedConditions.textToBe(By.id("status"), "UP"));
        wait.until(d -> !d.findElement(By.id("overview-version")).getText().equals("–"));
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("listeners-table"), String.valueOf(server.port())));
        // the page polls the overview every 5 s
        wait.until(ExpectedConditions.textToBe(By.id("count-connections"), "2"));
        wait.until(ExpectedConditions.textToBe(By.id("count-sessions"), "3"));
        wait.until(ExpectedConditions.textToBe(By.id("count-sessions-online"), "2"));
        wait.until(ExpectedConditions.textToBe(By.id("count-subscriptions"), "2"));
        // a single node: no cluster panel
        assertThat(driver.findElement(By.id("cluster-panel")).isDisplayed()).as("the cluster panel").isFalse();
        for (String chart : List.of("chart-connections", "chart-messages", "chart-dropped", "chart-queued")) {
            wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#" + chart + " canvas")));
            assertThat(driver.findElement(By.cssSelector("#" + chart + " canvas")).getSize().getWidth()).as(chart).isPositive();
        }
        // the history (sampled every 5 s) reaches the charts as the page polls it
        wait.until(ExpectedConditions.attributeToBeNotEmpty(driver.findElement(By.id("chart-connections")), "data-samples"));
        wait.until(d -> Integer.parseInt(d.findElement(By.id("chart-connections")).getDomAttribute("data-samples")) > 0);

        if (screenshots() != null) {
            // a minute of varying traffic so that the charts in the documentation show something
            Awaitility.await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200)).until(() -> {
                int n = 5 + (int) (20 * (1 + Math.sin(System.nanoTime() / 4e9)));
                for (int i = 0; i < n; i++) {
                    pub.publish("dash/it/load/" + i, ("m" + i).getBytes(StandardCharsets.UTF_8), 1, false);
                }
                return historySamples() >= 12;
            });
            open("#overview");
            wait.until(d -> Integer.parseInt(d.findElement(By.id("chart-connections")).getDomAttribute("data-samples")) >= 12);
            screenshot("overview");
        }
        assertOnlyTheBrokerWasAsked();
    }

    @Test
    @Order(2)
    void aConnectedClientIsListedAndDisconnectedFromThePage() throws Exception {
        BlockingQueue<MqttDisconnectResponse> lost = new LinkedBlockingQueue<>();
        MqttConnectionOptions o = options(true);
        o.setSessionExpiryInterval(300L);
        o.setKeepAliveInterval(45);
        MqttClient paho = connect("dash-it-client", o, lost, null);
        paho.subscribe("dash/it/commands/#", 1);

        open("#clients");
        WebDriverWait wait = new WebDriverWait(driver, WAIT);
        driver.findElement(By.id("client-search")).sendKeys("dash-it-cl");
        By row = By.cssSelector("#clients-table tr[data-client-id='dash-it-client']");
        wait.until(ExpectedConditions.textToBePresentInElementLocated(row, "connected"));
        assertThat(driver.findElement(row).getText()).contains("dash-it-client", "5.0");
        wait.until(ExpectedConditions.numberOfElementsToBe(By.cssSelector("#clients-table tbody tr[data-client-id]"), 1));

        driver.findElement(By.cssSelector("button.client-open[data-client-id='dash-it-client']")).click();
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("client-detail")));
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("client-subscriptions-table"),
                "dash/it/commands/#"));
        assertThat(driver.findElement(By.id("client-detail-fields")).getText()).contains("45 s", "300 s");
        screenshot("clients");

        driver.findElement(By.id("client-disconnect")).click();
        MqttDisconnectResponse r = lost.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(r).as("the client lost its connection").isNotNull();
        assertThat(r.getReturnCode()).as("Administrative action").isEqualTo(0x98);
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("client-action-result"), "Disconnected."));
        wait.until(ExpectedConditions.textToBePresentInElementLocated(row, "offline"));
        assertThat(paho.isConnected()).isFalse();
        assertOnlyTheBrokerWasAsked();

        // the session stays (expiry 300 s) with its subscription, which the subscriptions table finds by prefix
        open("#subscriptions");
        driver.findElement(By.id("subscription-filter")).sendKeys("dash/it/comm*");
        driver.findElement(By.id("subscriptions-search")).click();
        By subscription = By.cssSelector("#subscriptions-table tbody tr[data-client-id]");
        wait.until(ExpectedConditions.numberOfElementsToBe(subscription, 1));
        assertThat(driver.findElement(subscription).getText()).contains("dash-it-client", "dash/it/commands/#", "1");
    }

    @Test
    @Order(3)
    void aRetainedMessagePublishedFromTheFormReachesAnMqttClientAndTheRetainedBrowser() throws Exception {
        String topic = "dash/it/retained/greeting";
        String payload = "hello from the dashboard";
        open("#publish");
        WebDriverWait wait = new WebDriverWait(driver, WAIT);
        driver.findElement(By.id("publish-topic")).sendKeys(topic);
        driver.findElement(By.id("publish-payload")).sendKeys(payload);
        new Select(driver.findElement(By.id("publish-qos"))).selectByValue("1");
        driver.findElement(By.id("publish-retain")).click();
        driver.findElement(By.id("publish-content-type")).sendKeys("text/plain");
        driver.findElement(By.id("publish-submit")).click();
        wait.until(ExpectedConditions.attributeContains(By.id("publish-result"), "class", "ok"));
        assertThat(driver.findElement(By.id("publish-result")).getText()).contains(topic, "retained");
        screenshot("publish");

        BlockingQueue<MqttMessage> received = new LinkedBlockingQueue<>();
        MqttClient sub = connect("dash-it-reader", options(true), new LinkedBlockingQueue<>(), received);
        sub.subscribe(topic, 1);
        MqttMessage m = received.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(m).as("the retained message").isNotNull();
        assertThat(new String(m.getPayload(), StandardCharsets.UTF_8)).isEqualTo(payload);
        assertThat(m.isRetained()).isTrue();
        assertThat(m.getQos()).isEqualTo(1);
        assertThat(m.getProperties().getContentType()).isEqualTo("text/plain");

        // a bad topic: the API's 400 names the field, the form says so and marks the input
        WebElement topicInput = driver.findElement(By.id("publish-topic"));
        topicInput.clear();
        topicInput.sendKeys("dash/it/#");
        driver.findElement(By.id("publish-submit")).click();
        wait.until(ExpectedConditions.attributeContains(By.id("publish-result"), "class", "error"));
        assertThat(driver.findElement(By.id("publish-result")).getText()).contains("400", "topic");
        assertThat(topicInput.getDomAttribute("class")).contains("invalid");

        open("#retained");
        WebElement filter = driver.findElement(By.id("retained-filter"));
        filter.clear();
        filter.sendKeys("dash/it/#");
        driver.findElement(By.id("retained-search")).click();
        By retainedRow = By.cssSelector("#retained-table tr[data-topic='" + topic + "']");
        wait.until(ExpectedConditions.presenceOfElementLocated(retainedRow));
        assertThat(driver.findElement(retainedRow).getText()).contains(topic, String.valueOf(payload.length()));
        driver.findElement(By.cssSelector("button.retained-view[data-topic='" + topic + "']")).click();
        wait.until(ExpectedConditions.textToBe(By.id("retained-payload"), payload));
        assertThat(driver.findElement(By.id("retained-properties")).getText()).contains("text/plain");
        screenshot("retained");

        driver.findElement(By.cssSelector("button.retained-delete[data-topic='" + topic + "']")).click();
        wait.until(ExpectedConditions.alertIsPresent()).accept();
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("retained-result"), "Deleted"));
        wait.until(ExpectedConditions.numberOfElementsToBe(retainedRow, 0));
        HttpResponse<String> gone = http.send(HttpRequest.newBuilder(URI.create(base + "api/v1/retained/message?topic="
                + URLEncoder.encode(topic, StandardCharsets.UTF_8))).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(gone.statusCode()).as("the retained message is deleted").isEqualTo(404);
        assertOnlyTheBrokerWasAsked();
    }

    /**
     * With credentials configured every request needs them, the page's files and API calls included: the browser asks
     * for them once (here they come in the address, as a person would type them into the browser's prompt) and sends
     * them with each request of the page after that.
     */
    @Test
    @Order(4)
    void theDashboardWorksWhenTheAdminListenerAsksForAPassword() throws Exception {
        Path passwords = tmp.resolve("passwd");
        PasswordFile.empty().with("ops", PasswordHash.create("ops-secret".toCharArray(), PasswordHash.MIN_ITERATIONS))
                .write(passwords);
        try (StarlingServer secured = StarlingServer.start(BrokerConfig.builder().bindAddress("127.0.0.1").port(0)
                .dataDir(tmp.resolve("data-secured")).storage(BrokerConfig.Storage.MEMORY).passwordFile(passwords)
                .admin(AdminConfig.loopback(0).withUsers(List.of("ops"))).build())) {
            String origin = "http://127.0.0.1:" + secured.adminPort() + "/";
            HttpResponse<String> anonymous = http.send(HttpRequest.newBuilder(URI.create(origin))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(anonymous.statusCode()).isEqualTo(401);

            driver.get("http://ops:ops-secret@127.0.0.1:" + secured.adminPort() + "/#publish");
            WebDriverWait wait = new WebDriverWait(driver, WAIT);
            wait.until(ExpectedConditions.textToBe(By.id("status"), "UP"));
            wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#chart-connections canvas")));
            driver.findElement(By.id("publish-topic")).sendKeys("dash/it/secured");
            driver.findElement(By.id("publish-payload")).sendKeys("behind a password");
            driver.findElement(By.id("publish-submit")).click();
            wait.until(ExpectedConditions.attributeContains(By.id("publish-result"), "class", "ok"));
            assertThat(driver.findElement(By.id("publish-result")).getText()).contains("17 bytes", "dash/it/secured");
            assertThat(driver.findElement(By.id("error-banner")).isDisplayed()).isFalse();
        }
    }

    private void open(String fragment) {
        driver.get(base + fragment);
        // a reload whatever the fragment was before, so that each test starts from a freshly loaded page
        driver.navigate().refresh();
    }

    private static MqttConnectionOptions options(boolean cleanStart) {
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setCleanStart(cleanStart);
        o.setAutomaticReconnect(false);
        o.setConnectionTimeout(10);
        return o;
    }

    /** The number of samples {@code GET /api/v1/history} answers now. */
    private int historySamples() throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "api/v1/history"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        Matcher m = Pattern.compile("\"t\":").matcher(r.body());
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    private MqttClient connect(String id, MqttConnectionOptions o, BlockingQueue<MqttDisconnectResponse> lost,
            BlockingQueue<MqttMessage> messages) throws MqttException {
        MqttClient c = new MqttClient("tcp://127.0.0.1:" + server.port(), id, new MemoryPersistence());
        c.setTimeToWait(10_000);
        mqtt.add(c);
        c.setCallback(new MqttCallback() {
            @Override
            public void disconnected(MqttDisconnectResponse response) {
                lost.add(response);
            }

            @Override
            public void mqttErrorOccurred(MqttException exception) {
            }

            @Override
            public void messageArrived(String topic, MqttMessage message) {
                if (messages != null) {
                    messages.add(message);
                }
            }

            @Override
            public void deliveryComplete(IMqttToken token) {
            }

            @Override
            public void connectComplete(boolean reconnect, String serverUri) {
            }

            @Override
            public void authPacketArrived(int reasonCode, MqttProperties properties) {
            }
        });
        c.connect(o);
        return c;
    }

    /** Every request the page made (document, scripts, styles, API calls) went to the broker's admin listener. */
    private void assertOnlyTheBrokerWasAsked() {
        @SuppressWarnings("unchecked")
        List<String> urls = (List<String>) ((JavascriptExecutor) driver).executeScript(
                "return performance.getEntries().map(function (e) { return e.name; })"
                        + ".filter(function (n) { return n.indexOf(':') > 0 && n.indexOf('data:') !== 0; });");
        assertThat(urls).as("requests of the page").isNotEmpty()
                .anySatisfy(u -> assertThat(u).contains("/api/v1/"))
                .anySatisfy(u -> assertThat(u).endsWith("/ui/vendor/uplot/uPlot.iife.min.js"))
                .allSatisfy(u -> assertThat(u).startsWith(base));
    }

    /** The folder of {@code -Dstarling.screenshots} (relative to the repository), or null: no screenshots. */
    private static Path screenshots() {
        String dir = System.getProperty("starling.screenshots", "");
        if (dir.isBlank()) {
            return null;
        }
        Path d = Path.of(dir);
        return d.isAbsolute() ? d : repositoryRoot().resolve(d);
    }

    private void screenshot(String name) throws IOException {
        Path d = screenshots();
        if (d == null) {
            return;
        }
        Files.createDirectories(d);
        Files.write(d.resolve("dashboard-" + name + ".png"), ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES));
    }

    private static Path repositoryRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("docs")) && Files.isRegularFile(p.resolve("pom.xml"))) {
                return p;
            }
        }
        throw new IllegalStateException("no repository above " + Path.of("").toAbsolutePath());
    }
}
