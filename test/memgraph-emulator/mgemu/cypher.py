"""A small openCypher subset: tokenizer, recursive-descent parser and a row-at-a-time executor."""
import math
import re


class CypherSyntaxError(Exception):
    pass


class CypherSemanticError(Exception):
    pass


class CypherRuntimeError(Exception):
    pass


KEYWORDS = {
    "MATCH", "OPTIONAL", "WHERE", "RETURN", "CREATE", "MERGE", "SET", "DELETE", "DETACH", "REMOVE", "WITH",
    "UNWIND", "AS", "AND", "OR", "XOR", "NOT", "IN", "IS", "NULL", "TRUE", "FALSE", "ORDER", "BY", "SKIP",
    "LIMIT", "ASC", "DESC", "ASCENDING", "DESCENDING", "DISTINCT", "ON", "STARTS", "ENDS", "CONTAINS", "CASE",
    "WHEN", "THEN", "ELSE", "END",
}

TOKEN_RE = re.compile(r"""
    (?P<ws>\s+|//[^\n]*|/\*.*?\*/)
  | (?P<float>(?:\d+\.\d+(?:[eE][-+]?\d+)?|\d+[eE][-+]?\d+|\.\d+(?:[eE][-+]?\d+)?))
  | (?P<int>0x[0-9a-fA-F]+|\d+)
  | (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<bq>`(?:[^`]|``)*`)
  | (?P<param>\$(?:[A-Za-z_][A-Za-z0-9_]*|\d+))
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><>|<=|>=|->|<-|=~|\.\.|\+=|[-+*/%^=<>(){}\[\],.:;|])
""", re.X | re.S)

ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "\\": "\\", "'": "'", '"': '"'}


def unescape(body):
    out = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            n = body[i + 1]
            if n == "u" and i + 5 < len(body):
                out.append(chr(int(body[i + 2:i + 6], 16)))
                i += 6
                continue
            out.append(ESCAPES.get(n, n))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


class Tok:
    __slots__ = ("kind", "value", "pos", "end", "upper")

    def __init__(self, kind, value, pos, end):
        self.kind = kind
        self.value = value
        self.pos = pos
        self.end = end
        self.upper = value.upper() if kind == "name" else None


def tokenize(text):
    toks = []
    pos = 0
    while pos < len(text):
        m = TOKEN_RE.match(text, pos)
        if not m:
            raise CypherSyntaxError("line 1:%d token recognition error at: '%s'" % (pos, text[pos]))
        kind = m.lastgroup
        val = m.group(kind)
        if kind != "ws":
            if kind == "str":
                toks.append(Tok("str", unescape(val[1:-1]), pos, m.end()))
            elif kind == "bq":
                toks.append(Tok("ident", val[1:-1].replace("``", "`"), pos, m.end()))
            else:
                toks.append(Tok(kind, val, pos, m.end()))
        pos = m.end()
    toks.append(Tok("eof", "<EOF>", len(text), len(text)))
    return toks


AGGREGATES = {"count", "collect", "sum", "avg", "min", "max"}


class Parser:
    def __init__(self, text):
        self.text = text
        self.toks = tokenize(text)
        self.i = 0

    # -- helpers
    @property
    def t(self):
        return self.toks[self.i]

    def peek(self, k=1):
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def error(self, expecting=None):
        t = self.t
        line = self.text.count("\n", 0, t.pos) + 1
        col = t.pos - (self.text.rfind("\n", 0, t.pos) + 1)
        shown = t.value if t.kind not in ("str",) else self.text[t.pos:t.end]
        msg = "line %d:%d mismatched input '%s'" % (line, col, shown)
        if expecting:
            msg += " expecting %s" % expecting
        raise CypherSyntaxError(msg)

    def kw(self, *words):
        return self.t.kind == "name" and self.t.upper in words

    def accept_kw(self, *words):
        if self.kw(*words):
            self.i += 1
            return True
        return False

    def expect_kw(self, word):
        if not self.accept_kw(word):
            self.error(word)

    def op(self, *ops):
        return self.t.kind == "op" and self.t.value in ops

    def accept_op(self, *ops):
        if self.op(*ops):
            v = self.t.value
            self.i += 1
            return v
        return None

    def expect_op(self, o):
        if not self.accept_op(o):
            self.error("'%s'" % o)

    def name(self):
        t = self.t
        if t.kind in ("name", "ident"):
            self.i += 1
            return t.value
        self.error("a symbolic name")

    def variable(self):
        t = self.t
        if t.kind == "ident" or (t.kind == "name" and t.upper not in KEYWORDS):
            self.i += 1
            return t.value
        self.error("a variable")

    # -- statements
    def parse_query(self):
        clauses = []
        while True:
            if self.t.kind == "eof" or self.op(";"):
                break
            clauses.append(self.clause())
        self.accept_op(";")
        if self.t.kind != "eof":
            self.error("<EOF>")
        if not clauses:
            self.error("a clause")
        last = clauses[-1][0]
        if last in ("match", "with", "unwind"):
            raise CypherSemanticError("Query should either create or update something, or return results!")
        for c in clauses[:-1]:
            if c[0] == "return":
                raise CypherSemanticError("RETURN can only be used at the end of the query.")
        return clauses

    def clause(self):
        if self.accept_kw("OPTIONAL"):
            self.expect_kw("MATCH")
            return self.match(True)
        if self.accept_kw("MATCH"):
            return self.match(False)
        if self.accept_kw("CREATE"):
            return ("create", self.pattern_list())
        if self.accept_kw("MERGE"):
            pat = self.pattern()
            on_create, on_match = [], []
            while self.kw("ON"):
                self.i += 1
                if self.accept_kw("CREATE"):
                    self.expect_kw("SET")
                    on_create += self.set_items()
                elif self.accept_kw("MATCH"):
                    self.expect_kw("SET")
                    on_match += self.set_items()
                else:
                    self.error("CREATE or MATCH")
            return ("merge", pat, on_create, on_match)
        if self.accept_kw("SET"):
            return ("set", self.set_items())
        if self.accept_kw("REMOVE"):
            items = []
            while True:
                var = self.variable()
                if self.accept_op("."):
                    items.append(("prop", var, self.name()))
                elif self.op(":"):
                    labels = []
                    while self.accept_op(":"):
                        labels.append(self.name())
                    items.append(("labels", var, labels))
                else:
                    self.error("'.' or ':'")
                if not self.accept_op(","):
                    break
            return ("remove", items)
        if self.accept_kw("DETACH"):
            self.expect_kw("DELETE")
            return ("delete", self.expr_list(), True)
        if self.accept_kw("DELETE"):
            return ("delete", self.expr_list(), False)
        if self.accept_kw("UNWIND"):
            e = self.expr()
            self.expect_kw("AS")
            return ("unwind", e, self.variable())
        if self.accept_kw("WITH"):
            proj = self.projection()
            where = self.expr() if self.accept_kw("WHERE") else None
            return ("with", proj, where)
        if self.accept_kw("RETURN"):
            return ("return", self.projection())
        self.error("a clause")

    def match(self, optional):
        pats = self.pattern_list()
        where = self.expr() if self.accept_kw("WHERE") else None
        return ("match", pats, where, optional)

    def set_items(self):
        items = []
        while True:
            var = self.variable()
            if self.accept_op("."):
                key = self.name()
                self.expect_op("=")
                items.append(("prop", var, key, self.expr()))
            elif self.op(":"):
                labels = []
                while self.accept_op(":"):
                    labels.append(self.name())
                items.append(("labels", var, labels))
            elif self.accept_op("+="):
                items.append(("merge_map", var, self.expr()))
            elif self.accept_op("="):
                items.append(("replace_map", var, self.expr()))
            else:
                self.error("'.', ':', '=' or '+='")
            if not self.accept_op(","):
                break
        return items

    def expr_list(self):
        out = [self.expr()]
        while self.accept_op(","):
            out.append(self.expr())
        return out

    def projection(self):
        distinct = self.accept_kw("DISTINCT")
        items = []
        star = False
        if self.accept_op("*"):
            star = True
        else:
            while True:
                start = self.t.pos
                e = self.expr()
                end = self.toks[self.i - 1].end
                if self.accept_kw("AS"):
                    alias = self.variable()
                else:
                    alias = self.text[start:end]
                items.append((e, alias))
                if not self.accept_op(","):
                    break
        order = []
        skip = limit = None
        if self.accept_kw("ORDER"):
            self.expect_kw("BY")
            while True:
                e = self.expr()
                desc = False
                if self.accept_kw("DESC", "DESCENDING"):
                    desc = True
                else:
                    self.accept_kw("ASC", "ASCENDING")
                order.append((e, desc))
                if not self.accept_op(","):
                    break
        if self.accept_kw("SKIP"):
            skip = self.expr()
        if self.accept_kw("LIMIT"):
            limit = self.expr()
        return {"distinct": distinct, "items": items, "star": star, "order": order, "skip": skip, "limit": limit}

    # -- patterns
    def pattern_list(self):
        out = [self.pattern()]
        while self.accept_op(","):
            out.append(self.pattern())
        return out

    def pattern(self):
        path_var = None
        if (self.t.kind == "ident" or (self.t.kind == "name" and self.t.upper not in KEYWORDS)) and \
                self.peek().kind == "op" and self.peek().value == "=":
            path_var = self.variable()
            self.expect_op("=")
        nodes = [self.node_pattern()]
        rels = []
        while self.op("-", "<-", "->"):
            rels.append(self.rel_pattern())
            nodes.append(self.node_pattern())
        return {"var": path_var, "nodes": nodes, "rels": rels}

    def node_pattern(self):
        self.expect_op("(")
        var = None
        if self.t.kind == "ident" or (self.t.kind == "name" and self.t.upper not in KEYWORDS):
            var = self.variable()
        labels = []
        while self.accept_op(":"):
            labels.append(self.name())
        props = self.map_literal() if self.op("{") else None
        if self.op("$"):
            self.error("')'")
        self.expect_op(")")
        return {"var": var, "labels": labels, "props": props}

    def rel_pattern(self):
        left = False
        if self.accept_op("<-"):
            left = True
        else:
            self.expect_op("-")
        var = None
        types = []
        props = None
        if self.accept_op("["):
            if self.t.kind == "ident" or (self.t.kind == "name" and self.t.upper not in KEYWORDS):
                var = self.variable()
            if self.accept_op(":"):
                types.append(self.name())
                while self.accept_op("|"):
                    self.accept_op(":")
                    types.append(self.name())
            if self.op("*"):
                self.error("']'")
            if self.op("{"):
                props = self.map_literal()
            self.expect_op("]")
        right = False
        if self.accept_op("->"):
            right = True
        else:
            self.expect_op("-")
        if left and right:
            self.error("'-'")
        direction = "out" if right else ("in" if left else "both")
        return {"var": var, "types": types, "props": props, "dir": direction}

    def map_literal(self):
        self.expect_op("{")
        items = []
        if not self.op("}"):
            while True:
                k = self.name()
                self.expect_op(":")
                items.append((k, self.expr()))
                if not self.accept_op(","):
                    break
        self.expect_op("}")
        return ("map", items)

    # -- expressions
    def expr(self):
        return self.or_expr()

    def or_expr(self):
        a = self.xor_expr()
        while self.accept_kw("OR"):
            a = ("or", a, self.xor_expr())
        return a

    def xor_expr(self):
        a = self.and_expr()
        while self.accept_kw("XOR"):
            a = ("xor", a, self.and_expr())
        return a

    def and_expr(self):
        a = self.not_expr()
        while self.accept_kw("AND"):
            a = ("and", a, self.not_expr())
        return a

    def not_expr(self):
        if self.accept_kw("NOT"):
            return ("not", self.not_expr())
        return self.cmp_expr()

    def cmp_expr(self):
        a = self.add_expr()
        while True:
            o = self.accept_op("=", "<>", "<", ">", "<=", ">=", "=~")
            if o:
                a = ("cmp", o, a, self.add_expr())
                continue
            if self.kw("IS"):
                self.i += 1
                neg = self.accept_kw("NOT")
                self.expect_kw("NULL")
                a = ("isnull", a, neg)
                continue
            if self.accept_kw("IN"):
                a = ("in", a, self.add_expr())
                continue
            if self.kw("STARTS") or self.kw("ENDS"):
                which = self.t.upper
                self.i += 1
                self.expect_kw("WITH")
                a = ("strop", which, a, self.add_expr())
                continue
            if self.accept_kw("CONTAINS"):
                a = ("strop", "CONTAINS", a, self.add_expr())
                continue
            return a

    def add_expr(self):
        a = self.mul_expr()
        while True:
            o = self.accept_op("+", "-")
            if not o:
                return a
            a = ("arith", o, a, self.mul_expr())

    def mul_expr(self):
        a = self.pow_expr()
        while True:
            o = self.accept_op("*", "/", "%")
            if not o:
                return a
            a = ("arith", o, a, self.pow_expr())

    def pow_expr(self):
        a = self.unary()
        while self.accept_op("^"):
            a = ("arith", "^", a, self.unary())
        return a

    def unary(self):
        if self.accept_op("-"):
            e = self.unary()
            if e[0] == "lit" and isinstance(e[1], (int, float)) and not isinstance(e[1], bool):
                return ("lit", -e[1])
            return ("neg", e)
        if self.accept_op("+"):
            return self.unary()
        return self.postfix()

    def postfix(self):
        e = self.atom()
        while True:
            if self.op(".") and self.peek().kind in ("name", "ident"):
                self.i += 1
                e = ("prop", e, self.name())
            elif self.accept_op("["):
                if self.accept_op(".."):
                    hi = None if self.op("]") else self.expr()
                    self.expect_op("]")
                    e = ("slice", e, None, hi)
                    continue
                idx = self.expr()
                if self.accept_op(".."):
                    hi = None if self.op("]") else self.expr()
                    self.expect_op("]")
                    e = ("slice", e, idx, hi)
                    continue
                self.expect_op("]")
                e = ("index", e, idx)
            elif self.op(":") and e[0] == "var":
                labels = []
                while self.accept_op(":"):
                    labels.append(self.name())
                e = ("haslabel", e, labels)
            else:
                return e

    def atom(self):
        t = self.t
        if t.kind == "int":
            self.i += 1
            v = int(t.value, 16) if t.value.lower().startswith("0x") else int(t.value)
            if v >= 2 ** 63:
                raise CypherSemanticError("Integer literal exceeds 64 bits.")
            return ("lit", v)
        if t.kind == "float":
            self.i += 1
            return ("lit", float(t.value))
        if t.kind == "str":
            self.i += 1
            return ("lit", t.value)
        if t.kind == "param":
            self.i += 1
            return ("param", t.value[1:])
        if t.kind == "op" and t.value == "(":
            self.i += 1
            e = self.expr()
            self.expect_op(")")
            return e
        if t.kind == "op" and t.value == "[":
            self.i += 1
            items = []
            if not self.op("]"):
                items = self.expr_list()
            self.expect_op("]")
            return ("list", items)
        if t.kind == "op" and t.value == "{":
            return self.map_literal()
        if t.kind == "name":
            u = t.upper
            if u == "NULL":
                self.i += 1
                return ("lit", None)
            if u == "TRUE":
                self.i += 1
                return ("lit", True)
            if u == "FALSE":
                self.i += 1
                return ("lit", False)
            if u == "CASE":
                return self.case_expr()
            if self.peek().kind == "op" and self.peek().value == "(":
                fname = t.value
                self.i += 2
                if fname.lower() == "count" and self.accept_op("*"):
                    self.expect_op(")")
                    return ("countstar",)
                distinct = self.accept_kw("DISTINCT")
                args = []
                if not self.op(")"):
                    args = self.expr_list()
                self.expect_op(")")
                return ("call", fname.lower(), args, distinct)
            if u in KEYWORDS:
                self.error("an expression")
            self.i += 1
            return ("var", t.value)
        if t.kind == "ident":
            self.i += 1
            return ("var", t.value)
        self.error("an expression")

    def case_expr(self):
        self.expect_kw("CASE")
        subject = None
        if not self.kw("WHEN"):
            subject = self.expr()
        whens = []
        while self.accept_kw("WHEN"):
            c = self.expr()
            self.expect_kw("THEN")
            whens.append((c, self.expr()))
        if not whens:
            self.error("WHEN")
        default = self.expr() if self.accept_kw("ELSE") else ("lit", None)
        self.expect_kw("END")
        return ("case", subject, whens, default)


def parse(text):
    return Parser(text).parse_query()


# ---------------------------------------------------------------- classification

def query_type(clauses):
    reads = writes = False
    for c in clauses:
        if c[0] == "match":
            reads = True
        elif c[0] == "merge":
            reads = writes = True
        elif c[0] in ("create", "set", "remove", "delete"):
            writes = True
    if reads and writes:
        return "rw"
    if writes:
        return "w"
    if reads:
        return "r"
    return "rw"  # no classification (e.g. RETURN 1): Memgraph reports NONE as "rw"


def is_write(clauses):
    return any(c[0] in ("create", "merge", "set", "remove", "delete") for c in clauses)


# ---------------------------------------------------------------- values

class NodeVal:
    __slots__ = ("v",)

    def __init__(self, v):
        self.v = v

    def __eq__(self, o):
        return isinstance(o, NodeVal) and o.v.id == self.v.id

    def __hash__(self):
        return hash(("n", self.v.id))


class RelVal:
    __slots__ = ("e",)

    def __init__(self, e):
        self.e = e

    def __eq__(self, o):
        return isinstance(o, RelVal) and o.e.id == self.e.id

    def __hash__(self):
        return hash(("r", self.e.id))


class PathVal:
    __slots__ = ("nodes", "rels")

    def __init__(self, nodes, rels):
        self.nodes = nodes
        self.rels = rels


def _type_name(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "double"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "list"
    if isinstance(v, dict):
        return "map"
    if isinstance(v, NodeVal):
        return "vertex"
    if isinstance(v, RelVal):
        return "edge"
    return "path"


def _hashable(v):
    if isinstance(v, list):
        return ("L",) + tuple(_hashable(x) for x in v)
    if isinstance(v, dict):
        return ("M",) + tuple(sorted((k, _hashable(x)) for k, x in v.items()))
    if isinstance(v, bool):
        return ("B", v)
    if isinstance(v, float) and math.isfinite(v) and v == int(v):
        return int(v)
    if isinstance(v, NodeVal):
        return ("N", v.v.id)
    if isinstance(v, RelVal):
        return ("R", v.e.id)
    return v


def _num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def values_equal(a, b):
    if a is None or b is None:
        return None
    if _num(a) and _num(b):
        return a == b
    if type(a) is not type(b):
        if isinstance(a, bool) or isinstance(b, bool):
            return False
        return False
    if isinstance(a, list):
        if len(a) != len(b):
            return False
        result = True
        for x, y in zip(a, b):
            r = values_equal(x, y)
            if r is False:
                return False
            if r is None:
                result = None
        return result
    return a == b


def _order_key(v):
    # ordering across types roughly as openCypher: map, node, rel, list, path, string, bool, number, null
    if v is None:
        return (9, 0)
    if _num(v):
        return (7, v if not (isinstance(v, float) and math.isnan(v)) else float("inf"))
    if isinstance(v, bool):
        return (6, v)
    if isinstance(v, str):
        return (5, v)
    if isinstance(v, list):
        return (3, tuple(_order_key(x) for x in v))
    if isinstance(v, NodeVal):
        return (1, v.v.id)
    if isinstance(v, RelVal):
        return (2, v.e.id)
    if isinstance(v, dict):
        return (0, str(sorted(v)))
    return (4, 0)


# ---------------------------------------------------------------- execution

class Stats:
    def __init__(self):
        self.c = {}

    def add(self, key, n=1):
        self.c[key] = self.c.get(key, 0) + n

    KEYS = ("nodes-created", "nodes-deleted", "relationships-created", "relationships-deleted", "properties-set",
            "labels-added", "labels-removed", "indexes-added", "indexes-removed", "constraints-added",
            "constraints-removed")

    def as_dict(self):
        """Memgraph sends every key (zeros included) once any counter is non-zero, and no stats otherwise."""
        if not any(self.c.values()):
            return {}
        return {k: self.c.get(k, 0) for k in self.KEYS}


class Executor:
    """Runs a parsed query against a Graph through a transaction object with do(op)."""

    def __init__(self, graph, txn, params, stats, properties_on_edges=True):
        self.g = graph
        self.txn = txn
        self.params = params or {}
        self.stats = stats
        self.properties_on_edges = properties_on_edges

    # -- expressions
    def ev(self, e, row):
        k = e[0]
        if k == "lit":
            return e[1]
        if k == "param":
            if e[1] not in self.params:
                raise CypherRuntimeError("Parameter $%s not provided." % e[1])
            return self.params[e[1]]
        if k == "var":
            if e[1] not in row:
                raise CypherSemanticError("Unbound variable: %s." % e[1])
            return row[e[1]]
        if k == "prop":
            obj = self.ev(e[1], row)
            if obj is None:
                return None
            if isinstance(obj, NodeVal):
                return obj.v.props.get(e[2])
            if isinstance(obj, RelVal):
                return obj.e.props.get(e[2])
            if isinstance(obj, dict):
                return obj.get(e[2])
            raise CypherRuntimeError("Only nodes, edges, maps, temporal types and enums have properties to be "
                                     "looked-up.")
        if k == "and":
            a = self.ev(e[1], row)
            if a is False:
                return False
            b = self.ev(e[2], row)
            if b is False:
                return False
            if a is None or b is None:
                return None
            self._bool(a), self._bool(b)
            return True
        if k == "or":
            a = self.ev(e[1], row)
            if a is True:
                return True
            b = self.ev(e[2], row)
            if b is True:
                return True
            if a is None or b is None:
                return None
            self._bool(a), self._bool(b)
            return False
        if k == "xor":
            a, b = self.ev(e[1], row), self.ev(e[2], row)
            if a is None or b is None:
                return None
            return self._bool(a) != self._bool(b)
        if k == "not":
            a = self.ev(e[1], row)
            return None if a is None else not self._bool(a)
        if k == "cmp":
            return self._cmp(e[1], self.ev(e[2], row), self.ev(e[3], row))
        if k == "isnull":
            v = self.ev(e[1], row)
            return (v is not None) if e[2] else (v is None)
        if k == "in":
            v, lst = self.ev(e[1], row), self.ev(e[2], row)
            if lst is None:
                return None
            if not isinstance(lst, list):
                raise CypherRuntimeError("IN expected a list, got %s." % _type_name(lst))
            saw_null = False
            for x in lst:
                r = values_equal(v, x)
                if r is True:
                    return True
                if r is None:
                    saw_null = True
            return None if saw_null else False
        if k == "strop":
            a, b = self.ev(e[2], row), self.ev(e[3], row)
            if a is None or b is None:
                return None
            if not isinstance(a, str) or not isinstance(b, str):
                raise CypherRuntimeError("Invalid types: %s and %s for '%s'." % (_type_name(a), _type_name(b),
                                                                                 e[1]))
            return a.startswith(b) if e[1] == "STARTS" else a.endswith(b) if e[1] == "ENDS" else b in a
        if k == "arith":
            return self._arith(e[1], self.ev(e[2], row), self.ev(e[3], row))
        if k == "neg":
            v = self.ev(e[1], row)
            if v is None:
                return None
            if not _num(v):
                raise CypherRuntimeError("Invalid type for unary minus: %s." % _type_name(v))
            return -v
        if k == "list":
            return [self.ev(x, row) for x in e[1]]
        if k == "map":
            return {kk: self.ev(x, row) for kk, x in e[1]}
        if k == "index":
            c, i = self.ev(e[1], row), self.ev(e[2], row)
            if c is None or i is None:
                return None
            if isinstance(c, list):
                if not isinstance(i, int) or isinstance(i, bool):
                    raise CypherRuntimeError("Expected an integer as a list index, got %s." % _type_name(i))
                return c[i] if -len(c) <= i < len(c) else None
            if isinstance(c, dict):
                return c.get(i)
            if isinstance(c, NodeVal):
                return c.v.props.get(i)
            if isinstance(c, RelVal):
                return c.e.props.get(i)
            raise CypherRuntimeError("Expected a list, a map, a node or an edge to index with '[]', got %s."
                                     % _type_name(c))
        if k == "slice":
            c = self.ev(e[1], row)
            lo = self.ev(e[2], row) if e[2] is not None else None
            hi = self.ev(e[3], row) if e[3] is not None else None
            if c is None:
                return None
            return c[lo:hi]
        if k == "haslabel":
            n = self.ev(e[1], row)
            if n is None:
                return None
            if not isinstance(n, NodeVal):
                raise CypherRuntimeError("Expected a node for label test, got %s." % _type_name(n))
            return all(lb in n.v.labels for lb in e[2])
        if k == "case":
            if e[1] is None:
                for c, r in e[2]:
                    if self.ev(c, row) is True:
                        return self.ev(r, row)
            else:
                s = self.ev(e[1], row)
                for c, r in e[2]:
                    if values_equal(s, self.ev(c, row)) is True:
                        return self.ev(r, row)
            return self.ev(e[3], row)
        if k == "call":
            return self._call(e[1], [self.ev(a, row) for a in e[2]])
        if k in ("countstar", "agg"):
            if k == "agg":
                return row["\0agg%d" % e[1]]
            raise CypherSemanticError("Aggregation functions are only allowed in WITH and RETURN.")
        raise CypherRuntimeError("unsupported expression %r" % (k,))

    def _bool(self, v):
        if not isinstance(v, bool):
            raise CypherRuntimeError("Expected a boolean value, got %s." % _type_name(v))
        return v

    def _cmp(self, o, a, b):
        if o == "=":
            return values_equal(a, b)
        if o == "<>":
            r = values_equal(a, b)
            return None if r is None else not r
        if o == "=~":
            if a is None or b is None:
                return None
            return re.fullmatch(b, a) is not None
        if a is None or b is None:
            return None
        if _num(a) and _num(b) or (isinstance(a, str) and isinstance(b, str)) or \
                (isinstance(a, bool) and isinstance(b, bool)):
            return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[o]
        raise CypherRuntimeError("Invalid types: %s and %s for '%s'." % (_type_name(a), _type_name(b), o))

    def _arith(self, o, a, b):
        if a is None or b is None:
            return None
        if o == "+":
            if isinstance(a, list) and isinstance(b, list):
                return a + b
            if isinstance(a, list):
                return a + [b]
            if isinstance(b, list):
                return [a] + b
            if isinstance(a, str) and isinstance(b, str):
                return a + b
            if isinstance(a, str) and _num(b) or _num(a) and isinstance(b, str):
                return str(a) + str(b)
        if _num(a) and _num(b):
            if o == "+":
                r = a + b
            elif o == "-":
                r = a - b
            elif o == "*":
                r = a * b
            elif o == "/":
                if isinstance(a, int) and isinstance(b, int):
                    if b == 0:
                        raise CypherRuntimeError("Division by zero.")
                    q = abs(a) // abs(b)
                    return q if (a >= 0) == (b >= 0) else -q
                return a / b if b != 0 else (math.copysign(math.inf, a) if a else math.nan)
            elif o == "%":
                if isinstance(a, int) and isinstance(b, int):
                    if b == 0:
                        raise CypherRuntimeError("Mod with zero.")
                    return int(math.fmod(a, b))
                return math.fmod(a, b)
            else:
                return float(a) ** float(b)
            if isinstance(r, int) and not (-2 ** 63 <= r < 2 ** 63):
                raise CypherRuntimeError("Integer overflow.")
            return r
        raise CypherRuntimeError("Invalid types: %s and %s for '%s'." % (_type_name(a), _type_name(b), o))

    def _call(self, name, args):
        def need(n):
            if len(args) != n:
                raise CypherRuntimeError("'%s' requires exactly %d argument%s." % (name, n, "" if n == 1 else "s"))
        if name == "labels":
            need(1)
            if args[0] is None:
                return None
            if not isinstance(args[0], NodeVal):
                raise CypherRuntimeError("'labels' argument must be a node.")
            return list(args[0].v.labels)
        if name == "properties":
            need(1)
            a = args[0]
            if a is None:
                return None
            if isinstance(a, NodeVal):
                return dict(a.v.props)
            if isinstance(a, RelVal):
                return dict(a.e.props)
            if isinstance(a, dict):
                return dict(a)
            raise CypherRuntimeError("'properties' argument must be a node, an edge or a map.")
        if name == "keys":
            need(1)
            a = args[0]
            if a is None:
                return None
            if isinstance(a, NodeVal):
                return list(a.v.props)
            if isinstance(a, RelVal):
                return list(a.e.props)
            if isinstance(a, dict):
                return list(a)
            raise CypherRuntimeError("'keys' argument must be a node, an edge or a map.")
        if name == "id":
            need(1)
            a = args[0]
            if a is None:
                return None
            if isinstance(a, NodeVal):
                return a.v.id
            if isinstance(a, RelVal):
                return a.e.id
            raise CypherRuntimeError("'id' argument must be a node or an edge.")
        if name == "type":
            need(1)
            if args[0] is None:
                return None
            if not isinstance(args[0], RelVal):
                raise CypherRuntimeError("'type' argument must be an edge.")
            return args[0].e.type
        if name in ("startnode", "endnode"):
            need(1)
            if args[0] is None:
                return None
            e = args[0].e
            return NodeVal(self.g.vertices[e.src if name == "startnode" else e.dst])
        if name == "size":
            need(1)
            a = args[0]
            if a is None:
                return None
            if isinstance(a, (str, list, dict)):
                return len(a)
            if isinstance(a, PathVal):
                return len(a.rels)
            raise CypherRuntimeError("'size' argument must be a string, a collection or a path.")
        if name == "range":
            if len(args) not in (2, 3):
                raise CypherRuntimeError("'range' requires two or three arguments.")
            if any(a is None for a in args):
                return None
            if not all(isinstance(a, int) and not isinstance(a, bool) for a in args):
                raise CypherRuntimeError("arguments of 'range' must be integers.")
            step = args[2] if len(args) == 3 else 1
            if step == 0:
                raise CypherRuntimeError("step argument of 'range' can't be zero.")
            if step > 0:
                return list(range(args[0], args[1] + 1, step))
            return list(range(args[0], args[1] - 1, step))
        if name in ("tostring",):
            need(1)
            a = args[0]
            if a is None:
                return None
            if isinstance(a, bool):
                return "true" if a else "false"
            if isinstance(a, float):
                return repr(a)
            return str(a)
        if name in ("tointeger", "toint"):
            need(1)
            a = args[0]
            if a is None:
                return None
            try:
                return int(float(a)) if isinstance(a, str) else int(a)
            except (ValueError, OverflowError):
                return None
        if name == "tofloat":
            need(1)
            a = args[0]
            if a is None:
                return None
            try:
                return float(a)
            except ValueError:
                return None
        if name == "coalesce":
            for a in args:
                if a is not None:
                    return a
            return None
        if name == "head":
            need(1)
            return args[0][0] if args[0] else None
        if name == "last":
            need(1)
            return args[0][-1] if args[0] else None
        if name == "abs":
            need(1)
            return None if args[0] is None else abs(args[0])
        if name in ("toupper", "tolower"):
            need(1)
            if args[0] is None:
                return None
            return args[0].upper() if name == "toupper" else args[0].lower()
        if name == "timestamp":
            import time
            return int(time.time() * 1000000)
        if name == "exists":
            need(1)
            return args[0] is not None
        if name == "toboolean":
            need(1)
            a = args[0]
            if a is None or isinstance(a, bool):
                return a
            if isinstance(a, str):
                return {"true": True, "false": False}.get(a.lower())
            raise CypherRuntimeError("'toBoolean' argument must be a string or a boolean.")
        if name == "rand":
            import random
            return random.random()
        if name in ("length", "nodes", "relationships"):
            need(1)
            a = args[0]
            if a is None:
                return None
            if name == "length":
                if isinstance(a, PathVal):
                    return len(a.rels)
                if isinstance(a, (str, list)):
                    return len(a)
                raise CypherRuntimeError("'length' argument must be a path, a list or a string.")
            if not isinstance(a, PathVal):
                raise CypherRuntimeError("'%s' argument must be a path." % name)
            return list(a.nodes) if name == "nodes" else list(a.rels)
        if name == "reverse":
            need(1)
            return None if args[0] is None else args[0][::-1]
        if name == "split":
            need(2)
            return None if None in args else args[0].split(args[1])
        if name == "substring":
            if None in args[:2]:
                return None
            st = args[1]
            return args[0][st:] if len(args) == 2 else args[0][st:st + args[2]]
        if name in ("trim", "ltrim", "rtrim"):
            need(1)
            if args[0] is None:
                return None
            return {"trim": str.strip, "ltrim": str.lstrip, "rtrim": str.rstrip}[name](args[0])
        if name == "replace":
            need(3)
            return None if None in args else args[0].replace(args[1], args[2])
        if name in ("round", "floor", "ceil", "sqrt"):
            a = args[0] if args else None
            if a is None:
                return None
            if not _num(a):
                raise CypherRuntimeError("'%s' argument must be a number." % name)
            if name == "round":
                return float(math.floor(a + 0.5)) if a >= 0 else -float(math.floor(-a + 0.5))
            return float({"floor": math.floor, "ceil": math.ceil, "sqrt": math.sqrt}[name](a))
        raise CypherSemanticError("Function '%s' doesn't exist." % name.upper())

    # -- aggregation support
    def _split_aggs(self, e, aggs):
        """Replace aggregate calls by placeholders, collecting them."""
        if not isinstance(e, tuple):
            return e
        if e[0] == "countstar" or (e[0] == "call" and e[1] in AGGREGATES):
            aggs.append(e)
            return ("agg", len(aggs) - 1)
        out = []
        for x in e:
            if isinstance(x, tuple):
                out.append(self._split_aggs(x, aggs))
            elif isinstance(x, list):
                out.append([self._split_aggs(y, aggs) if isinstance(y, tuple) else y for y in x])
            else:
                out.append(x)
        return tuple(out)

    def _agg_value(self, agg, rows):
        if agg[0] == "countstar":
            return len(rows)
        name, args, distinct = agg[1], agg[2], agg[3]
        if len(args) != 1:
            raise CypherRuntimeError("Aggregation function '%s' requires exactly one argument." % name)
        vals = [self.ev(args[0], r) for r in rows]
        vals = [v for v in vals if v is not None]
        if distinct:
            seen = set()
            uniq = []
            for v in vals:
                h = _hashable(v)
                if h not in seen:
                    seen.add(h)
                    uniq.append(v)
            vals = uniq
        if name == "count":
            return len(vals)
        if name == "collect":
            return vals
        if name == "sum":
            if not all(_num(v) for v in vals):
                raise CypherRuntimeError("Only numeric values allowed in SUM aggregation.")
            return sum(vals) if vals else 0
        if name == "avg":
            if not all(_num(v) for v in vals):
                raise CypherRuntimeError("Only numeric values allowed in AVG aggregation.")
            return sum(vals) / len(vals) if vals else None
        if not vals:
            return None
        keyed = sorted(vals, key=_order_key)
        return keyed[0] if name == "min" else keyed[-1]

    # -- clauses
    def run(self, clauses):
        rows = [{}]
        columns = []
        for c in clauses:
            kind = c[0]
            if kind == "match":
                rows = self.do_match(rows, c[1], c[2], c[3])
            elif kind == "create":
                for r in rows:
                    for p in c[1]:
                        self.create_pattern(p, r)
            elif kind == "merge":
                rows = self.do_merge(rows, c)
            elif kind == "set":
                for r in rows:
                    self.do_set(c[1], r)
            elif kind == "remove":
                for r in rows:
                    self.do_remove(c[1], r)
            elif kind == "delete":
                self.do_delete(rows, c[1], c[2])
            elif kind == "unwind":
                out = []
                for r in rows:
                    lst = self.ev(c[1], r)
                    if lst is None:
                        continue
                    if not isinstance(lst, list):
                        lst = [lst]
                    for x in lst:
                        nr = dict(r)
                        nr[c[2]] = x
                        out.append(nr)
                rows = out
            elif kind == "with":
                rows, _ = self.project(rows, c[1])
                if c[2] is not None:
                    rows = [r for r in rows if self.ev(c[2], r) is True]
            elif kind == "return":
                rows, columns = self.project(rows, c[1])
                return columns, [[r[col] for col in columns] for r in rows]
        return [], []

    def project(self, rows, proj):
        items = list(proj["items"])
        if proj["star"]:
            names = sorted({k for r in rows for k in r if not k.startswith("\0")}) if rows else []
            items = [(("var", n), n) for n in names] + items
        columns = [alias for _, alias in items]
        if len(set(columns)) != len(columns):
            raise CypherSemanticError("Multiple results with the same name '%s' are not allowed."
                                      % next(c for c in columns if columns.count(c) > 1))
        aggs = []
        split = [(self._split_aggs(e, aggs), alias) for e, alias in items]
        if aggs:
            groups = {}
            order = []
            keyed_items = [(e, a) for (e, a), (orig, _) in zip(split, items) if not self._has_agg(e)]
            for r in rows:
                key_vals = [self.ev(e, r) for e, _ in keyed_items]
                key = tuple(_hashable(v) for v in key_vals)
                if key not in groups:
                    groups[key] = (r, [])
                    order.append(key)
                groups[key][1].append(r)
            if not rows and not keyed_items:
                groups[()] = ({}, [])
                order.append(())
            out = []
            for key in order:
                first, grows = groups[key]
                env = dict(first)
                for i, a in enumerate(aggs):
                    env["\0agg%d" % i] = self._agg_value(a, grows)
                nr = {alias: self.ev(e, env) for e, alias in split}
                nr["\0env"] = env
                out.append(nr)
        else:
            out = []
            for r in rows:
                nr = {alias: self.ev(e, r) for e, alias in split}
                nr["\0env"] = r
                out.append(nr)
        if proj["distinct"]:
            seen = set()
            uniq = []
            for r in out:
                h = tuple(_hashable(r[c]) for c in columns)
                if h not in seen:
                    seen.add(h)
                    uniq.append(r)
            out = uniq
        if proj["order"]:
            def sort_key_env(r):
                env = dict(r["\0env"])
                env.update({k: v for k, v in r.items() if not k.startswith("\0")})
                return env
            for e, desc in reversed(proj["order"]):
                out.sort(key=lambda r: _order_key(self.ev(self._split_aggs(e, []) if not self._has_agg(e) else
                                                          e, sort_key_env(r))), reverse=desc)
        if proj["skip"] is not None:
            n = self.ev(proj["skip"], {})
            out = out[n:]
        if proj["limit"] is not None:
            n = self.ev(proj["limit"], {})
            out = out[:n]
        for r in out:
            r.pop("\0env", None)
        return out, columns

    def _has_agg(self, e):
        if not isinstance(e, tuple):
            return False
        if e[0] in ("agg", "countstar") or (e[0] == "call" and e[1] in AGGREGATES):
            return True
        for x in e:
            if isinstance(x, tuple) and self._has_agg(x):
                return True
            if isinstance(x, list) and any(isinstance(y, tuple) and self._has_agg(y) for y in x):
                return True
        return False

    # matching
    def _props_match(self, props_expr, obj_props, row):
        if props_expr is None:
            return True
        want = self.ev(props_expr, row)
        for k, v in want.items():
            if values_equal(obj_props.get(k), v) is not True:
                return False
        return True

    def _node_candidates(self, np, row):
        if np["var"] and np["var"] in row:
            val = row[np["var"]]
            if val is None:
                return []
            if not isinstance(val, NodeVal):
                raise CypherRuntimeError("Expected a node for %s." % np["var"])
            cands = [val.v] if val.v.id in self.g.vertices else []
        elif np["labels"]:
            smallest = min((self.g.label_index(lb) for lb in np["labels"]), key=len)
            cands = [self.g.vertices[vid] for vid in list(smallest)]
        else:
            cands = list(self.g.vertices.values())
        return [v for v in cands if all(lb in v.labels for lb in np["labels"])
                and self._props_match(np["props"], v.props, row)]

    def match_pattern(self, pat, row):
        results = []
        nodes, rels = pat["nodes"], pat["rels"]

        def extend(i, r, used, path_nodes, path_rels):
            if i == len(rels):
                rr = dict(r)
                if pat["var"]:
                    rr[pat["var"]] = PathVal(path_nodes, path_rels)
                results.append(rr)
                return
            rp = rels[i]
            cur = path_nodes[-1].v
            np = nodes[i + 1]
            cand = []
            if rp["dir"] in ("out", "both"):
                cand += [(self.g.edges[eid], self.g.edges[eid].dst) for eid in sorted(self.g.out_edges[cur.id])]
            if rp["dir"] in ("in", "both"):
                cand += [(self.g.edges[eid], self.g.edges[eid].src) for eid in sorted(self.g.in_edges[cur.id])
                         if not (rp["dir"] == "both" and self.g.edges[eid].src == self.g.edges[eid].dst)]
            for e, other in cand:
                if e.id in used:
                    continue
                if rp["types"] and e.type not in rp["types"]:
                    continue
                if rp["var"] and rp["var"] in r:
                    if r[rp["var"]] != RelVal(e):
                        continue
                if not self._props_match(rp["props"], e.props, r):
                    continue
                ov = self.g.vertices[other]
                if np["var"] and np["var"] in r and r[np["var"]] != NodeVal(ov):
                    continue
                if not all(lb in ov.labels for lb in np["labels"]) or not self._props_match(np["props"], ov.props, r):
                    continue
                nr = dict(r)
                if rp["var"]:
                    nr[rp["var"]] = RelVal(e)
                if np["var"]:
                    nr[np["var"]] = NodeVal(ov)
                extend(i + 1, nr, used | {e.id}, path_nodes + [NodeVal(ov)], path_rels + [RelVal(e)])

        for v in self._node_candidates(nodes[0], row):
            r = dict(row)
            if nodes[0]["var"]:
                r[nodes[0]["var"]] = NodeVal(v)
            extend(0, r, frozenset(), [NodeVal(v)], [])
        return results

    def do_match(self, rows, pats, where, optional):
        out = []
        for row in rows:
            cur = [row]
            for p in pats:
                nxt = []
                for r in cur:
                    nxt += self.match_pattern(p, r)
                cur = nxt
            if where is not None:
                cur = [r for r in cur if self.ev(where, r) is True]
            if not cur and optional:
                r = dict(row)
                for p in pats:
                    for n in p["nodes"]:
                        if n["var"] and n["var"] not in r:
                            r[n["var"]] = None
                    for rp in p["rels"]:
                        if rp["var"] and rp["var"] not in r:
                            r[rp["var"]] = None
                cur = [r]
            out += cur
        return out

    # writes
    def _check_props(self, d):
        for k, v in d.items():
            self._check_value(v)
        return d

    def _check_value(self, v):
        if isinstance(v, (NodeVal, RelVal, PathVal)):
            raise CypherRuntimeError("Can't have %s as a property value." % _type_name(v))
        if v is not None and not isinstance(v, (bool, int, float, str, list, dict)):
            raise CypherRuntimeError("Temporal and spatial property values are not supported by the emulator.")
        if isinstance(v, list):
            for x in v:
                self._check_value(x)
        if isinstance(v, dict):
            for x in v.values():
                self._check_value(x)

    def create_node(self, np, row):
        props = self.ev(np["props"], row) if np["props"] else {}
        props = {k: v for k, v in self._check_props(props).items() if v is not None}
        vid = self.g.next_vid
        self.txn.do(("cv", vid, list(dict.fromkeys(np["labels"])), props))
        self.stats.add("nodes-created")
        if np["labels"]:
            self.stats.add("labels-added", len(set(np["labels"])))
        if props:
            self.stats.add("properties-set", len(props))
        return NodeVal(self.g.vertices[vid])

    def create_pattern(self, pat, row):
        nodes = []
        for np in pat["nodes"]:
            if np["var"] and np["var"] in row:
                if np["labels"] or np["props"]:
                    raise CypherSemanticError("Variable '%s' declared in CREATE clause already exists." % np["var"]) \
                        if False else None
                v = row[np["var"]]
                if not isinstance(v, NodeVal):
                    raise CypherRuntimeError("Trying to create edges between non-node values.")
                nodes.append(v)
            else:
                n = self.create_node(np, row)
                if np["var"]:
                    row[np["var"]] = n
                nodes.append(n)
        rels = []
        for i, rp in enumerate(pat["rels"]):
            if len(rp["types"]) != 1:
                raise CypherSemanticError("A single relationship type must be specified when creating an edge.")
            if rp["dir"] == "both":
                raise CypherSemanticError("Edges have to be directed when creating them.")
            a, b = nodes[i], nodes[i + 1]
            if rp["dir"] == "in":
                a, b = b, a
            props = self.ev(rp["props"], row) if rp["props"] else {}
            props = {k: v for k, v in self._check_props(props).items() if v is not None}
            if props and not self.properties_on_edges:
                raise CypherRuntimeError("Can't set property because properties on edges are disabled.")
            eid = self.g.next_eid
            self.txn.do(("ce", eid, a.v.id, b.v.id, rp["types"][0], props))
            self.stats.add("relationships-created")
            if props:
                self.stats.add("properties-set", len(props))
            rv = RelVal(self.g.edges[eid])
            if rp["var"]:
                row[rp["var"]] = rv
            rels.append(rv)
        if pat["var"]:
            row[pat["var"]] = PathVal(nodes, rels)

    def do_merge(self, rows, c):
        _, pat, on_create, on_match = c
        out = []
        for row in rows:
            found = self.match_pattern(pat, row)
            if found:
                for r in found:
                    self.do_set(on_match, r)
                out += found
            else:
                r = dict(row)
                self.create_pattern(pat, r)
                self.do_set(on_create, r)
                out.append(r)
        return out

    def _target(self, var, row):
        if var not in row:
            raise CypherSemanticError("Unbound variable: %s." % var)
        return row[var]

    def _set_prop(self, obj, key, value):
        self._check_value(value)
        if isinstance(obj, NodeVal):
            self.txn.do(("sv", obj.v.id, key, value))
        elif isinstance(obj, RelVal):
            if not self.properties_on_edges:
                raise CypherRuntimeError("Can't set property because properties on edges are disabled.")
            self.txn.do(("se", obj.e.id, key, value))
        else:
            raise CypherRuntimeError("Properties can only be set on edges and vertices.")
        self.stats.add("properties-set")

    def do_set(self, items, row):
        for it in items:
            obj = self._target(it[1], row)
            if obj is None:
                continue
            if it[0] == "prop":
                self._set_prop(obj, it[2], self.ev(it[3], row))
            elif it[0] == "labels":
                if not isinstance(obj, NodeVal):
                    raise CypherRuntimeError("Labels can only be set on vertices.")
                for lb in it[2]:
                    if lb not in obj.v.labels:
                        self.txn.do(("al", obj.v.id, lb))
                        self.stats.add("labels-added")
            else:
                m = self.ev(it[2], row)
                if isinstance(m, (NodeVal, RelVal)):
                    m = dict(m.v.props) if isinstance(m, NodeVal) else dict(m.e.props)
                if not isinstance(m, dict):
                    raise CypherRuntimeError("Can only set properties from a map, a vertex or an edge.")
                if it[0] == "replace_map":
                    cur = obj.v.props if isinstance(obj, NodeVal) else obj.e.props
                    for k in list(cur):
                        if k not in m:
                            self._set_prop(obj, k, None)
                for k, v in m.items():
                    self._set_prop(obj, k, v)

    def do_remove(self, items, row):
        for it in items:
            obj = self._target(it[1], row)
            if obj is None:
                continue
            if it[0] == "prop":
                self._set_prop(obj, it[2], None)
            else:
                for lb in it[2]:
                    if lb in obj.v.labels:
                        self.txn.do(("rl", obj.v.id, lb))
                        self.stats.add("labels-removed")

    def do_delete(self, rows, exprs, detach):
        for row in rows:
            for e in exprs:
                val = self.ev(e, row)
                targets = val.nodes + val.rels if isinstance(val, PathVal) else [val]
                for t in targets:
                    if t is None:
                        continue
                    if isinstance(t, RelVal):
                        if t.e.id in self.g.edges:
                            self.txn.do(("de", t.e.id))
                            self.stats.add("relationships-deleted")
                    elif isinstance(t, NodeVal):
                        vid = t.v.id
                        if vid not in self.g.vertices:
                            continue
                        attached = set(self.g.out_edges[vid]) | set(self.g.in_edges[vid])
                        if attached and not detach:
                            raise CypherRuntimeError("Failed to remove node because of it's existing connections. "
                                                     "Consider using DETACH DELETE.")
                        for eid in sorted(attached):
                            self.txn.do(("de", eid))
                            self.stats.add("relationships-deleted")
                        self.txn.do(("dv", vid))
                        self.stats.add("nodes-deleted")
                    else:
                        raise CypherRuntimeError("Only edges and vertices can be deleted.")


# ---------------------------------------------------------------- static checks and result columns

def _expr_vars(e, out):
    if not isinstance(e, tuple):
        return
    if e and e[0] == "var":
        out.append(e[1])
        return
    for x in e:
        if isinstance(x, tuple):
            _expr_vars(x, out)
        elif isinstance(x, list):
            for y in x:
                if isinstance(y, tuple):
                    _expr_vars(y, out)


def _pattern_vars(p):
    vs = []
    if p["var"]:
        vs.append(p["var"])
    for n in p["nodes"]:
        if n["var"]:
            vs.append(n["var"])
    for r in p["rels"]:
        if r["var"]:
            vs.append(r["var"])
    return vs


def _pattern_exprs(p):
    return [x["props"] for x in p["nodes"] + p["rels"] if x["props"] is not None]


def check_and_columns(clauses):
    """Raise CypherSemanticError for unbound variables; return the result columns."""
    scope = []

    def need(exprs, extra=()):
        for e in exprs:
            used = []
            _expr_vars(e, used)
            for v in used:
                if v not in scope and v not in extra:
                    raise CypherSemanticError("Unbound variable: %s." % v)

    columns = []
    for c in clauses:
        k = c[0]
        if k in ("match", "create"):
            pats = c[1]
            new = [v for p in pats for v in _pattern_vars(p)]
            need([e for p in pats for e in _pattern_exprs(p)], new)
            if k == "create":
                for p in pats:
                    for n in p["nodes"]:
                        if n["var"] and n["var"] in scope and (n["labels"] or n["props"]) and len(p["nodes"]) == 1:
                            raise CypherSemanticError("Redeclaring variable: %s." % n["var"])
            scope += [v for v in new if v not in scope]
            if k == "match" and c[2] is not None:
                need([c[2]])
        elif k == "merge":
            new = _pattern_vars(c[1])
            need(_pattern_exprs(c[1]), new)
            scope += [v for v in new if v not in scope]
            need([it[3] if it[0] == "prop" else it[2] for it in c[2] + c[3] if it[0] != "labels"])
        elif k == "set":
            for it in c[1]:
                if it[1] not in scope:
                    raise CypherSemanticError("Unbound variable: %s." % it[1])
            need([it[3] if it[0] == "prop" else it[2] for it in c[1] if it[0] != "labels"])
        elif k == "remove":
            for it in c[1]:
                if it[1] not in scope:
                    raise CypherSemanticError("Unbound variable: %s." % it[1])
        elif k == "delete":
            need(c[1])
        elif k == "unwind":
            need([c[1]])
            scope.append(c[2])
        elif k in ("with", "return"):
            proj = c[1]
            need([e for e, _ in proj["items"]])
            aliases = [a for _, a in proj["items"]]
            cols = (sorted(scope) if proj["star"] else []) + aliases
            order_scope = scope + aliases
            for e, _ in proj["order"]:
                used = []
                _expr_vars(e, used)
                for v in used:
                    if v not in order_scope:
                        raise CypherSemanticError("Unbound variable: %s." % v)
            if k == "with":
                scope = list(dict.fromkeys(cols))
                if c[2] is not None:
                    need([c[2]])
            else:
                columns = cols
    return columns


class WNode:
    __slots__ = ("id", "labels", "props")

    def __init__(self, v):
        self.id, self.labels, self.props = v.id, list(v.labels), dict(v.props)


class WRel:
    __slots__ = ("id", "src", "dst", "type", "props")

    def __init__(self, e):
        self.id, self.src, self.dst, self.type, self.props = e.id, e.src, e.dst, e.type, dict(e.props)


class WPath:
    __slots__ = ("nodes", "rels")

    def __init__(self, p):
        self.nodes = [WNode(n.v) for n in p.nodes]
        self.rels = [WRel(r.e) for r in p.rels]


def materialize(v):
    if isinstance(v, NodeVal):
        return WNode(v.v)
    if isinstance(v, RelVal):
        return WRel(v.e)
    if isinstance(v, PathVal):
        return WPath(v)
    if isinstance(v, list):
        return [materialize(x) for x in v]
    if isinstance(v, dict):
        return {k: materialize(x) for k, x in v.items()}
    return v
