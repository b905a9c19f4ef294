// A real Neo4j 5.26 Bolt peer for the C client's tests: an in-process database (neo4j-harness) listening
// on 127.0.0.1 only, HTTP off, small memory. Usage:
//   java -Xmx512m -cp '<cache>/lib/*:<cache>/classes' BoltPeer --port P --dir D [--auth USER PASSWORD]
//        [--tls-dir DIR]   (DIR holds private.key and public.crt; Bolt then accepts TLS and plain)
// Prints "BOLT-PEER READY 127.0.0.1:<port> auth=<on|off> tls=<on|off>" once Bolt accepts connections,
// then runs until stdin closes or the process is terminated.
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.configuration.ssl.ClientAuth;
import org.neo4j.configuration.ssl.SslPolicyConfig;
import org.neo4j.configuration.ssl.SslPolicyScope;
import org.neo4j.harness.Neo4j;
import org.neo4j.harness.Neo4jBuilder;
import org.neo4j.harness.Neo4jBuilders;

public final class BoltPeer {
  private BoltPeer() {}

  public static void main(String[] args) throws Exception {
    int port = 0;
    Path dir = null;
    Path tlsDir = null;
    String user = null;
    String password = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--port" -> port = Integer.parseInt(args[++i]);
        case "--dir" -> dir = Path.of(args[++i]);
        case "--tls-dir" -> tlsDir = Path.of(args[++i]);
        case "--auth" -> {
          user = args[++i];
          password = args[++i];
        }
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    if (port <= 0 || dir == null) {
      throw new IllegalArgumentException("--port and --dir are required");
    }
    Files.createDirectories(dir);
    Neo4jBuilder builder = Neo4jBuilders.newInProcessBuilder(dir)
        .withDisabledServer()
        .withConfig(BoltConnector.enabled, true)
        .withConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
        .withConfig(BoltConnector.advertised_address, new SocketAddress("127.0.0.1", port))
        .withConfig(GraphDatabaseSettings.auth_enabled, user != null)
        .withConfig(GraphDatabaseSettings.pagecache_memory, 16L * 1024 * 1024);
    if (tlsDir != null) {
      SslPolicyConfig policy = SslPolicyConfig.forScope(SslPolicyScope.BOLT);
      builder = builder
          .withConfig(policy.enabled, true)
          .withConfig(policy.base_directory, tlsDir)
          .withConfig(policy.private_key, tlsDir.resolve("private.key"))
          .withConfig(policy.public_certificate, tlsDir.resolve("public.crt"))
          .withConfig(policy.client_auth, ClientAuth.NONE)
          .withConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.OPTIONAL);
    }
    Neo4j neo4j = builder.build();
    if (user != null) {
      neo4j.databaseManagementService().database("system").executeTransactionally(
          "CREATE USER $user SET PASSWORD $password CHANGE NOT REQUIRED",
          Map.of("user", user, "password", password));
    }
    Runtime.getRuntime().addShutdownHook(new Thread(neo4j::close));
    System.out.println("BOLT-PEER READY 127.0.0.1:" + port + " auth=" + (user != null ? "on" : "off")
        + " tls=" + (tlsDir != null ? "on" : "off"));
    System.out.flush();
    while (System.in.read() >= 0) {
      // keep running until the parent closes our stdin
    }
    neo4j.close();
    System.exit(0);
  }
}
