"""The CLI's commands as data, and completion / `?` help / `help TOPIC` over them and the schema."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from flyos_agent.northbound.dsl.complete import Place, SchemaHelp, Suggestion
from flyos_agent.northbound.dsl.help import Topic, schema_topics, search
from flyos_agent.northbound.dsl.render import module_word
from flyos_agent.schema import Schema

DATASTORES = ("running", "candidate", "startup")
FORMATS = ("dsl", "set", "json", "xml")


@dataclass(frozen=True)
class CommandSpec:
    """A CLI command: usage line, one-line summary, longer help, and its argument words."""

    name: str
    usage: str
    summary: str
    details: str = ""
    words: tuple[str, ...] = ()


COMMANDS = {
    spec.name: spec
    for spec in (
        CommandSpec(
            "show",
            "show running|candidate|startup [MODULE] [| dsl|set|json|xml]\n"
            "show compare [rollback N]\nshow history\nshow state [MODULE] [| json]\nshow sessions",
            "show configuration, differences, commit history or operational state",
            "Configuration prints as DSL by default (replaying it reproduces it); "
            "'| set' prints one set statement per entry. 'show compare' is a unified diff "
            "from running (or rollback N) to the candidate.",
            (*DATASTORES, "compare", "history", "state", "sessions"),
        ),
        CommandSpec(
            "commit",
            'commit [comment "TEXT"] [confirmed [MINUTES]] [check]',
            "apply the candidate to running",
            "'confirmed' rolls back after MINUTES (default 10) unless confirmed with "
            "'confirm' or a plain 'commit'; 'check' only validates and plans.",
            ("comment", "confirmed", "check"),
        ),
        CommandSpec(
            "confirm",
            "confirm [PERSIST-ID]",
            "confirm a pending 'commit confirmed'",
            "Without PERSIST-ID it confirms a 'commit confirmed' made by this CLI.",
        ),
        CommandSpec(
            "rollback",
            "rollback [N]",
            "load the configuration of N commits ago (default 1) into the candidate",
            "Review it with 'show compare', apply it with 'commit'.",
        ),
        CommandSpec("discard", "discard", "drop the candidate's uncommitted changes"),
        CommandSpec("validate", "validate", "check every constraint of the candidate"),
        CommandSpec(
            "reconcile",
            "reconcile [check]",
            "compare the kernel's agent-owned objects with running and converge them "
            "('check' only reports the drift)",
        ),
        CommandSpec(
            "copy",
            "copy SOURCE TARGET",
            "copy a datastore onto another ('copy running startup' saves the boot config)",
            words=DATASTORES,
        ),
        CommandSpec(
            "lock",
            "lock [candidate|running]",
            "lock a datastore for this session",
            words=DATASTORES,
        ),
        CommandSpec(
            "unlock", "unlock [candidate|running]", "release this session's lock", words=DATASTORES
        ),
        CommandSpec(
            "configure",
            "configure private",
            "edit a private candidate that only this session sees",
            words=("private",),
        ),
        CommandSpec("help", "help [TOPIC]", "help on a command, module or keyword (fuzzy)"),
        CommandSpec("list", "list", "list the modules and their kinds"),
        CommandSpec("env", "env", "show this session: user, group, host, socket, candidate"),
        CommandSpec("exit", "exit", "leave the CLI (Ctrl-D does too)"),
        CommandSpec("quit", "quit", "leave the CLI"),
    )
}

DSL_HELP = """\
<module> <verb> [<kind>] { <keyword> <value>; <keyword> [ a b ]; <container> { ... } }
  modules: {modules} ('list' shows their kinds)
  verbs:   add (create; error if it exists), set (create or replace that entry),
           delete (error if missing), sync (replace the whole module with the block)
  Edits go to the candidate; 'commit' applies them. Keywords are YANG node names
  ('_' or '-'); '#' and '//' start comments; ';' or a new line separates statements."""


class ReplHelp:
    """Completion and help for whole CLI lines: commands and DSL statements."""

    def __init__(self, schema: Schema, existing: Callable[[str], Sequence[str]]) -> None:
        self.schema = schema
        self.dsl = SchemaHelp(schema, existing)
        self.topics = [
            *(Topic(spec.name, spec.summary, _command_body(spec)) for spec in COMMANDS.values()),
            *schema_topics(schema),
        ]

    def at(self, text: str) -> Place:
        """What may follow `text` (the whole buffer up to the cursor)."""
        place = self.dsl.at(text)
        if not place.command:
            if place.topic == "modules":
                commands = [Suggestion(name, spec.summary) for name, spec in COMMANDS.items()]
                return Place(place.prefix, [*place.suggestions, *commands], "commands and modules")
            return place
        words = place.words
        spec = COMMANDS.get(words[0])
        if spec is None:
            return Place(place.prefix, [], f"unknown command '{words[0]}'")
        return Place(place.prefix, self._arguments(spec, words[1:]), spec.usage)

    def _arguments(self, spec: CommandSpec, given: Sequence[str]) -> list[Suggestion]:
        if spec.name == "help":
            return [Suggestion(t.name, t.summary) for t in self.topics if " " not in t.name]
        if spec.name == "show" and given:
            return self._show_arguments(given)
        if not given or (spec.name == "copy" and len(given) == 1):
            return [Suggestion(word) for word in spec.words]
        return []

    def _show_arguments(self, given: Sequence[str]) -> list[Suggestion]:
        if "|" in given:
            return [Suggestion(f) for f in FORMATS] if given[-1] == "|" else []
        if given[0] in (*DATASTORES, "state"):
            modules = [module_word(root) for root in self.schema.roots.values()]
            return [Suggestion(m) for m in modules if len(given) == 1] + [Suggestion("|")]
        if given == ["compare"]:
            return [Suggestion("rollback")]
        return []

    def question(self, text: str) -> str:
        """`?` help: the heading and each suggestion with its description."""
        place = self.at(text)
        found = place.matching()
        lines = [place.topic] if place.topic else []
        width = max((len(s.text) for s in found), default=0)
        lines += [f"  {s.text.ljust(width)}  {s.description}".rstrip() for s in found]
        if not found:
            lines.append("  (nothing to complete here; press Enter to run)")
        return "\n".join(lines)

    def help(self, query: str) -> str:
        """`help [TOPIC]`: the overview, one topic in full, or the best matches."""
        if not query.strip():
            return _overview(", ".join(module_word(r) for r in self.schema.roots.values()))
        found = search(self.topics, query)
        if not found:
            return f"no help on '{query}'; try 'help' for the list of commands"
        exact = [t for t in found if t.name == " ".join(query.replace("_", "-").split())]
        if exact or len(found) == 1:
            return (exact or found)[0].body
        lines = [f"topics matching '{query}':"]
        lines += [f"  {t.name:32} {t.summary}" for t in found[:15]]
        return "\n".join(lines)


def _command_body(spec: CommandSpec) -> str:
    return "\n".join(filter(None, [spec.usage, "", spec.summary, spec.details]))


def _overview(modules: str) -> str:
    lines = ["Commands:"]
    lines += [f"  {spec.name:10} {spec.summary}" for spec in COMMANDS.values()]
    lines += ["", "Configuration statements:", DSL_HELP.replace("{modules}", modules), ""]
    lines.append(
        "'help TOPIC' explains a command, module or keyword; '?' and Tab help as you type."
    )
    return "\n".join(lines)
