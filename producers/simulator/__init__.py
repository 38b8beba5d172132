"""Workload simulator for the seed organisations: realistic normal traffic plus labelled misuse scenarios."""

from producers.simulator.driver import JsonlSink, KafkaSink, SimulationSummary, run_simulation
from producers.simulator.labels import LabelWriter, ScenarioRun, read_labels
from producers.simulator.population import Population, build_population
from producers.simulator.scenarios import SCENARIOS
from producers.simulator.stream import Schedule, Simulation, parse_scenarios
from producers.simulator.workload import Workload

__all__ = [
    "SCENARIOS",
    "JsonlSink",
    "KafkaSink",
    "LabelWriter",
    "Population",
    "ScenarioRun",
    "Schedule",
    "Simulation",
    "SimulationSummary",
    "Workload",
    "build_population",
    "parse_scenarios",
    "read_labels",
    "run_simulation",
]
