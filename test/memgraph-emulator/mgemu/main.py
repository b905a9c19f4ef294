"""Command line (gflags-like), logging, start-up and signals."""
import asyncio
import datetime
import os
import signal
import ssl
import sys

from .texts import Texts, DEFAULT_VERSION, SERVER_NAME, parse_version

BOOL, INT, STR, FLOAT = "bool", "int32", "string", "double"

# name -> (type, default or callable(texts) -> default)
FLAGS = {
    "bolt_port": (INT, 7687),
    "bolt_address": (STR, "0.0.0.0"),
    "bolt_cert_file": (STR, ""),
    "bolt_key_file": (STR, ""),
    "bolt_server_name_for_init": (STR, SERVER_NAME),
    "bolt_num_workers": (INT, 0),
    "bolt_session_inactivity_timeout": (INT, 1800),
    "data_directory": (STR, "mg_data"),
    "data_recovery_on_startup": (BOOL, True),
    "storage_wal_enabled": (BOOL, False),
    "storage_snapshot_interval_sec": (INT, lambda t: t.default_snapshot_interval()),
    "storage_snapshot_interval": (STR, ""),
    "storage_snapshot_retention_count": (INT, 3),
    "storage_snapshot_on_exit": (BOOL, False),
    "storage_wal_file_flush_every_n_tx": (INT, 100000),
    "storage_wal_file_size_kib": (INT, 20480),
    "storage_properties_on_edges": (BOOL, False),
    "storage_gc_cycle_sec": (INT, 30),
    "storage_mode": (STR, "IN_MEMORY_TRANSACTIONAL"),
    "storage_enable_backup_dir": (BOOL, True),
    "storage_parallel_schema_recovery": (BOOL, False),
    "storage_recovery_thread_count": (INT, 8),
    "storage_items_per_batch": (INT, 1000000),
    "storage_snapshot_thread_count": (INT, 8),
    "storage_enable_schema_metadata": (BOOL, False),
    "storage_automatic_label_index_creation_enabled": (BOOL, False),
    "storage_automatic_edge_type_index_creation_enabled": (BOOL, False),
    "storage_delta_on_identical_property_update": (BOOL, True),
    "storage_property_store_compression_enabled": (BOOL, False),
    "schema_info_enabled": (BOOL, False),
    "replication_restore_state_on_startup": (BOOL, True),
    "replication_replica_check_frequency_sec": (INT, 1),
    "memory_limit": (INT, 0),
    "memory_warning_threshold": (INT, 1024),
    "log_level": (STR, "WARNING"),
    "also_log_to_stderr": (BOOL, False),
    "log_file": (STR, ""),
    "log_retention_days": (INT, 35),
    "query_execution_timeout_sec": (FLOAT, 600.0),
    "management_port": (INT, 0),
    "coordinator_port": (INT, 0),
    "coordinator_id": (INT, 0),
    "coordinator_hostname": (STR, ""),
    "nuraft_log_file": (STR, ""),
    "telemetry_enabled": (BOOL, False),
    "isolation_level": (STR, "SNAPSHOT_ISOLATION"),
    "query_modules_directory": (STR, ""),
    "auth_module_mappings": (STR, ""),
    "auth_user_or_role_name_regex": (STR, "[a-zA-Z0-9_.+-@]+"),
    "auth_password_permit_null": (BOOL, True),
    "auth_password_strength_regex": (STR, ".+"),
    "monitoring_port": (INT, 7444),
    "monitoring_address": (STR, "0.0.0.0"),
    "metrics_port": (INT, 9091),
    "metrics_address": (STR, "0.0.0.0"),
    "init_file": (STR, ""),
    "init_data_file": (STR, ""),
    "allow_load_csv": (BOOL, True),
    "cartesian_product_enabled": (BOOL, True),
    "debug_query_plans": (BOOL, False),
    "hops_limit_partial_results": (BOOL, True),
    "timezone": (STR, "UTC"),
    "lock_path": (STR, ""),
    "instance_down_timeout_sec": (INT, 5),
    "instance_health_check_frequency_sec": (INT, 1),
    # other Memgraph flags: accepted, no effect in the emulator
    "experimental_enabled": (STR, ""),
    "storage_light_edge": (BOOL, False),
    "storage_gc_aggressive": (BOOL, False),
    "storage_enable_edges_metadata": (BOOL, False),
    "storage_access_timeout_sec": (INT, 1),
    "storage_python_gc_cycle_sec": (INT, 180),
    "audit_enabled": (BOOL, False),
    "audit_buffer_size": (INT, 100000),
    "audit_buffer_flush_interval_ms": (INT, 200),
    "kafka_bootstrap_servers": (STR, ""),
    "pulsar_service_url": (STR, ""),
    "stream_transaction_conflict_retries": (INT, 30),
    "stream_transaction_retry_interval": (INT, 500),
    "query_cost_planner": (BOOL, True),
    "query_plan_cache_max_size": (INT, 1000),
    "query_max_plans": (INT, 1000),
    "query_vertex_count_to_expand_existing": (INT, 10),
    "password_encryption_algorithm": (STR, "bcrypt"),
    "auth_module_create_missing_user": (BOOL, True),
    "auth_module_create_missing_role": (BOOL, True),
    "auth_module_manage_roles": (BOOL, True),
    "auth_module_timeout_ms": (INT, 10000),
    "deltas_batch_progress_size": (INT, 100000),
    "cluster_cert_file": (STR, ""),
    "cluster_key_file": (STR, ""),
    "cluster_ca_file": (STR, ""),
    # emulator-only
    "emulate_version": (STR, ""),
    "emulator_replication_delay_ms": (INT, 0),
}

BOOL_VALUES = {"true": True, "t": True, "yes": True, "y": True, "1": True,
               "false": False, "f": False, "no": False, "n": False, "0": False}


class FlagError(Exception):
    pass


def parse_args(argv):
    """Return {name: raw value} in gflags style; booleans never take the next argument."""
    given = {}
    i = 0
    while i < len(argv):
        a = argv[i]
        i += 1
        if a == "--":
            break
        if not a.startswith("-") or a == "-":
            continue  # positional arguments are left alone, as gflags does
        body = a.lstrip("-")
        if "=" in body:
            name, value = body.split("=", 1)
            has_value = True
        else:
            name, value, has_value = body, None, False
        key = name.replace("-", "_")
        if key not in FLAGS and key.startswith("no") and key[2:] in FLAGS and FLAGS[key[2:]][0] == BOOL \
                and not has_value:
            given[key[2:]] = "false"
            continue
        if key == "flagfile" or key == "flag_file":
            continue
        if key not in FLAGS:
            raise FlagError("ERROR: unknown command line flag '%s'" % name)
        ftype = FLAGS[key][0]
        if not has_value:
            if ftype == BOOL:
                value = "true"
            else:
                if i >= len(argv):
                    raise FlagError("ERROR: flag '%s' is missing its argument; flag description: %s" % (name, key))
                value = argv[i]
                i += 1
        given[key] = value
    return given


def resolve_flags(given, texts):
    flags = {}
    for key, (ftype, default) in FLAGS.items():
        if key in given:
            raw = given[key]
            if ftype == BOOL:
                if raw.lower() not in BOOL_VALUES:
                    raise FlagError("ERROR: illegal value '%s' specified for bool flag '%s'" % (raw, key))
                val = BOOL_VALUES[raw.lower()]
            elif ftype == INT:
                try:
                    val = int(raw, 0)
                except ValueError:
                    raise FlagError("ERROR: illegal value '%s' specified for int32 flag '%s'" % (raw, key))
            elif ftype == FLOAT:
                try:
                    val = float(raw)
                except ValueError:
                    raise FlagError("ERROR: illegal value '%s' specified for double flag '%s'" % (raw, key))
            else:
                val = raw
        else:
            val = default(texts) if callable(default) else default
        flags[key] = val
    return flags


LEVELS = {"TRACE": 0, "DEBUG": 1, "INFO": 2, "WARNING": 3, "ERROR": 4, "CRITICAL": 5}


class Log:
    def __init__(self, level, to_stderr, path):
        self.level = LEVELS.get(level.upper(), 3)
        self.to_stderr = to_stderr
        self.file = None
        if path:
            try:
                os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
                self.file = open(path, "a")
            except OSError as e:
                sys.stderr.write("Couldn't open log file %s: %s\n" % (path, e))

    def _emit(self, lvl, name, msg, force=False):
        if lvl < self.level and not force:
            return
        now = datetime.datetime.now()
        line = "[%s.%03d] [memgraph_log] [%s] %s\n" % (now.strftime("%Y-%m-%d %H:%M:%S"), now.microsecond // 1000,
                                                       name, msg)
        if self.to_stderr or force:
            sys.stderr.write(line)
            sys.stderr.flush()
        if self.file:
            self.file.write(line)
            self.file.flush()

    def trace(self, m):
        self._emit(0, "trace", m)

    def debug(self, m):
        self._emit(1, "debug", m)

    def info(self, m):
        self._emit(2, "info", m)

    def warning(self, m):
        self._emit(3, "warning", m)

    def error(self, m):
        self._emit(4, "error", m)

    def critical(self, m):
        self._emit(5, "critical", m, force=True)


def load_users():
    users = {}
    user, password = os.environ.get("MEMGRAPH_USER"), os.environ.get("MEMGRAPH_PASSWORD")
    if user:
        users[user] = password or ""
    passfile = os.environ.get("MEMGRAPH_PASSFILE")
    if passfile and not users:
        try:
            with open(passfile) as f:
                content = f.read().strip()
            if ":" in content:
                u, p = content.split(":", 1)
                users[u] = p
        except OSError:
            pass
    return users


async def amain(flags, texts, log):
    from .instance import Instance
    from .bolt import BoltServer
    from .queries import run_cypherl_file
    inst = Instance(flags, texts, log, load_users())
    await inst.start()
    if flags["init_file"]:
        log.info("Running init file...")
        await run_cypherl_file(inst, flags["init_file"], log)
    ssl_ctx = None
    if flags["bolt_cert_file"] and flags["bolt_key_file"]:
        ssl_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ssl_ctx.load_cert_chain(flags["bolt_cert_file"], flags["bolt_key_file"])
        log.info("Using secure Bolt connection (with SSL).")
    else:
        log.warning("Using non-secure Bolt connection (without SSL).")
    bolt = BoltServer(inst, log)
    try:
        await bolt.start(flags["bolt_address"], flags["bolt_port"], ssl_ctx)
    except OSError as e:
        log.critical("Couldn't start the Bolt server on %s:%d: %s" % (flags["bolt_address"], flags["bolt_port"], e))
        await inst.shutdown()
        return 1
    log.info("Bolt server is fully armed and operational")
    log.info("Bolt listening on %s:%d" % (flags["bolt_address"], flags["bolt_port"]))
    if flags["init_data_file"]:
        await run_cypherl_file(inst, flags["init_data_file"], log)
        log.info("Running queries from init data file successfully finished.")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("Shutting down...")
    await bolt.stop()
    await inst.shutdown()
    return 0


def stoi(text):
    """std::stoi: optional whitespace and sign, then digits; anything else throws (the process aborts)."""
    import re
    m = re.match(r"^\s*([-+]?\d+)", text)
    if not m:
        sys.stderr.write("terminate called after throwing an instance of 'std::invalid_argument'\n  what():  stoi\n")
        sys.stderr.flush()
        os._exit(134)
    return int(m.group(1))


# /etc/memgraph/memgraph.conf as installed by the deb/rpm of the official images (memgraph.md section 9, "packaged")
PACKAGED_CONFIG = [
    "--data-directory=/var/lib/memgraph", "--data-recovery-on-startup=true", "--storage-wal-enabled=true",
    "--storage-snapshot-interval-sec=300", "--storage-snapshot-retention-count=3", "--storage-snapshot-on-exit=true",
    "--storage-properties-on-edges=true", "--log-level=WARNING", "--log-file=/var/log/memgraph/memgraph.log",
    "--memory-limit=0",
]


def read_flagfile(path):
    out = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("-"):
                out.append(line)
    return out


def expand_config(argv):
    """Memgraph loads /etc/memgraph/memgraph.conf, ~/.memgraph/config, $MEMGRAPH_CONFIG, then the command line."""
    pre = []
    if os.environ.get("MGO_EMULATOR_PACKAGED_CONFIG", "").lower() in ("1", "true", "yes"):
        pre += PACKAGED_CONFIG
    for path in ("/etc/memgraph/memgraph.conf", os.path.expanduser("~/.memgraph/config"),
                 os.environ.get("MEMGRAPH_CONFIG")):
        if path and os.path.isfile(path):
            try:
                pre += read_flagfile(path)
            except OSError:
                pass
    out = []
    args = list(argv)
    i = 0
    while i < len(args):
        a = args[i]
        key = a.lstrip("-").split("=", 1)[0].replace("-", "_")
        if a.startswith("-") and key in ("flagfile", "flag_file"):
            if "=" in a:
                path = a.split("=", 1)[1]
            else:
                i += 1
                path = args[i] if i < len(args) else ""
            try:
                out += read_flagfile(path)
            except OSError:
                raise FlagError("ERROR: can't open flagfile %s" % path)
        else:
            out.append(a)
        i += 1
    return pre + out


COORDINATION_ENV = {"MEMGRAPH_MANAGEMENT_PORT": "management_port", "MEMGRAPH_COORDINATOR_PORT": "coordinator_port",
                    "MEMGRAPH_COORDINATOR_ID": "coordinator_id"}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    try:
        given = parse_args(expand_config(argv))
        version = given.get("emulate_version") or os.environ.get("MGO_EMULATE_VERSION") or DEFAULT_VERSION
        try:
            if version != "latest":
                parse_version(version)
        except ValueError:
            raise FlagError("ERROR: unsupported emulated version '%s'" % version)
        texts = Texts(version)
        if texts.at_least(3, 12) and ("instance_down_timeout_sec" in given or
                                      "instance_health_check_frequency_sec" in given):
            name = "instance_down_timeout_sec" if "instance_down_timeout_sec" in given else \
                "instance_health_check_frequency_sec"
            raise FlagError("ERROR: unknown command line flag '%s'" % name.replace("_", "-"))
        if not texts.at_least(3, 11):
            for key in ("cluster_cert_file", "cluster_key_file", "cluster_ca_file"):
                if key in given:
                    raise FlagError("ERROR: unknown command line flag '%s'" % key.replace("_", "-"))
        if not texts.show_snapshots and "storage_snapshot_interval" in given:
            raise FlagError("ERROR: unknown command line flag 'storage-snapshot-interval'")
        if "emulator_replication_delay_ms" not in given and os.environ.get("MGO_EMULATOR_REPLICATION_DELAY_MS"):
            given["emulator_replication_delay_ms"] = os.environ["MGO_EMULATOR_REPLICATION_DELAY_MS"]
        if os.environ.get("MEMGRAPH_BOLT_PORT") is not None:
            given["bolt_port"] = str(stoi(os.environ["MEMGRAPH_BOLT_PORT"]))
        coord_env = {k: v for k, v in os.environ.items() if k in COORDINATION_ENV or k == "MEMGRAPH_COORDINATOR_HOSTNAME"}
        if coord_env:
            # src/flags/coord_flag_env_handler.cpp: any coordination variable makes all coordination flags ignored
            for key in ("management_port", "coordinator_port", "coordinator_id", "coordinator_hostname"):
                given.pop(key, None)
            for env_name, key in COORDINATION_ENV.items():
                if env_name in coord_env:
                    given[key] = str(stoi(coord_env[env_name]))
        flags = resolve_flags(given, texts)
    except FlagError as e:
        sys.stderr.write(str(e) + "\n")
        return 1
    if flags["log_level"].upper() not in LEVELS:
        sys.stderr.write("ERROR: failed validation of new value '%s' for flag 'log_level'\n" % flags["log_level"])
        return 1
    log = Log(flags["log_level"], flags["also_log_to_stderr"], flags["log_file"])
    if flags["storage_snapshot_interval"] and "storage_snapshot_interval_sec" in given:
        if not texts.at_least(3, 6):
            log.critical("Only one of --storage-snapshot-interval-sec and --storage-snapshot-interval can be set.")
            return 1
        log.warning("Both --storage-snapshot-interval-sec and --storage-snapshot-interval are set; "
                    "--storage-snapshot-interval is used.")
    if flags["storage_snapshot_interval"]:
        try:
            flags["storage_snapshot_interval_sec"] = int(flags["storage_snapshot_interval"])
        except ValueError:
            log.warning("Cron schedules for --storage-snapshot-interval are not emulated; periodic snapshots off.")
            flags["storage_snapshot_interval_sec"] = 0
    if not (1 <= flags["storage_snapshot_retention_count"] <= 1000000):
        sys.stderr.write("ERROR: failed validation of new value '%d' for flag 'storage_snapshot_retention_count'\n"
                         % flags["storage_snapshot_retention_count"])
        return 1
    if not (0 <= flags["storage_snapshot_interval_sec"] <= 604800):
        sys.stderr.write("ERROR: failed validation of new value '%d' for flag 'storage_snapshot_interval_sec'\n"
                         % flags["storage_snapshot_interval_sec"])
        return 1
    if flags["storage_wal_enabled"] and flags["storage_snapshot_interval_sec"] == 0:
        log.critical("In order to use write-ahead-logging you must enable periodic snapshots by setting the "
                     "snapshot interval to a value larger than 0!")
        return 1
    flags["emulate_version"] = texts.version_string
    log.info("Starting Memgraph emulator, version %s" % texts.version_string)
    try:
        return asyncio.run(amain(flags, texts, log))
    except KeyboardInterrupt:
        return 0
