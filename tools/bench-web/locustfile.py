"""The everyday mix of a district's staff, for `scripts/bench-web` (locust, headless).

Each virtual user signs in once (`POST /api/v1/session`, the CSRF token kept for its forms)
as a user of its role from the seeded district (`safetynet demo seed`), then repeats its
role's work with a short pause. Request names are the routes the benchmark reports.

Fixtures (written by scripts/bench-web): $BENCH_FIXTURES/users.csv (username,role,area),
households.json ({area: [[id, external_id], ...]}) and surveys.jsonl (cases at 入户调查).
"""

import csv
import itertools
import json
import os
import random
import re
import threading

from locust import FastHttpUser, between, task

FIXTURES = os.environ["BENCH_FIXTURES"]
PASSWORD = os.environ.get("BENCH_PASSWORD", "demo-2025")
TODAY = os.environ["BENCH_TODAY"]

with open(os.path.join(FIXTURES, "users.csv"), encoding="utf-8") as f:
    USERS = list(csv.DictReader(f))
with open(os.path.join(FIXTURES, "households.json"), encoding="utf-8") as f:
    HOUSEHOLDS = json.load(f)
SURVEYS = {}
with open(os.path.join(FIXTURES, "surveys.jsonl"), encoding="utf-8") as f:
    for line in f:
        case = json.loads(line)
        SURVEYS.setdefault(case["household"]["area_code"], []).append(case)
SURVEY_LOCK = threading.Lock()

# Name parts of one, two and three characters; ID-number prefixes (county and birth year).
NAMES = ["王", "李", "张", "刘", "陈", "秀英", "建国", "王芳", "蔡雪", "张伟", "李秀英", "陈建华"]
ID_PREFIXES = ["500224", "50022419", "5002241962", "500224198210", "50022420031227"]

POOLS = {}
for user in USERS:
    POOLS.setdefault(user["role"], []).append(user)
NEXT = {role: itertools.count() for role in POOLS}
NEXT_LOCK = threading.Lock()


def pick_user(roles):
    with NEXT_LOCK:
        pool = [u for r in roles for u in POOLS.get(r, [])]
        n = next(NEXT[roles[0]])
    return pool[n % len(pool)]


class Staff(FastHttpUser):
    abstract = True
    wait_time = between(0.2, 1.0)
    roles = ()

    def on_start(self):
        self.user = pick_user(self.roles)
        with self.client.post(
            "/api/v1/session",
            json={"username": self.user["username"], "password": PASSWORD},
            name="sign in",
            catch_response=True,
        ) as r:
            if r.status_code != 201:
                r.failure(f"sign in {self.user['username']}: {r.status_code}")
                raise RuntimeError("sign in failed")
            self.csrf = r.json()["csrf_token"]
        # A grid worker opens the households of its village.
        self.households = HOUSEHOLDS.get(self.user["area"][:12], [])

    def household(self):
        return random.choice(self.households) if self.households else None

    # Search by name, ID prefix and household number (page and API).
    @task(3)
    def search_name(self):
        self.client.get(f"/api/v1/households?q={random.choice(NAMES)}", name="search name (api)")

    @task(2)
    def search_id(self):
        self.client.get(f"/households?q={random.choice(ID_PREFIXES)}", name="search id prefix (page)")

    @task(2)
    def search_number(self):
        h = self.household()
        if h:
            self.client.get(f"/api/v1/households?q={h[1]}", name="search household no (api)")

    @task(4)
    def household_json(self):
        h = self.household()
        if h:
            self.client.get(f"/api/v1/households/{h[0]}", name="household json")

    @task(3)
    def household_page(self):
        h = self.household()
        if h:
            self.client.get(f"/households/{h[0]}", name="household page")

    @task(3)
    def queue(self):
        self.client.get("/cases", name="cases (queue, recheck list)")

    @task(2)
    def warnings_page(self):
        self.client.get("/warnings", name="warnings page")

    @task(2)
    def warnings_api(self):
        self.client.get("/api/v1/warnings", name="warnings (api)")


class Reporting(Staff):
    """District and town users also look at the dashboard and the joint report."""

    abstract = True

    @task(2)
    def dashboard(self):
        self.client.get("/dashboard", name="dashboard")

    @task(1)
    def reports(self):
        self.client.get("/reports", name="reports")


class District(Reporting):
    weight = 1
    roles = ("district_civil_affairs", "district_agriculture", "auditor")


class Town(Reporting):
    weight = 3
    roles = ("town_reviewer",)

    @task(2)
    def warning_step(self):
        r = self.client.get("/api/v1/warnings?state=open", name="warnings (api)")
        if r.status_code != 200:
            return
        items = r.json().get("items", [])
        if not items:
            return
        warning = random.choice(items)
        page = self.client.get(f"/warnings/{warning['id']}", name="warning page")
        version = re.search(r'name="version" value="(\d+)"', page.text or "")
        assignee = re.search(r'<select name="assignee">\s*<option value="(\d+)"', page.text or "")
        if not (version and assignee):
            return
        with self.client.post(
            f"/warnings/{warning['id']}",
            data={"csrf": self.csrf, "version": version.group(1), "action": "assign", "assignee": assignee.group(1)},
            name="warning step (assign)",
            allow_redirects=False,
            catch_response=True,
        ) as r:
            # 409: another user moved it first (optimistic concurrency), an expected outcome.
            if r.status_code in (303, 409):
                r.success()


class Village(Staff):
    weight = 3
    roles = ("village_assistant",)

    @task(1)
    def survey_save(self):
        with SURVEY_LOCK:
            cases = SURVEYS.get(self.user["area"], [])
            case = cases.pop() if cases else None
        if not case:
            return
        body = {"action": "record_survey", "team": [str(t) for t in case["team"]], "household": case["household"], "surveyed_on": TODAY}
        self.client.post(
            f"/api/v1/cases/{case['case_id']}/actions",
            json=body,
            headers={"X-CSRF-Token": self.csrf},
            name="survey save (api)",
        )


class Grid(Staff):
    weight = 3
    roles = ("grid_worker",)

    @task(1)
    def contact(self):
        with self.client.post(
            "/contacts",
            data={
                "csrf": self.csrf,
                "channel": "visit",
                "on_date": TODAY,
                "person_name": "孙大娘",
                "phone": "",
                "area": self.user["area"][:12],
                "findings": "走访发现：独居老人，近期摔伤行动不便",
                "outcome": random.choice(["recorded", "warning"]),
            },
            name="contact record",
            allow_redirects=False,
            catch_response=True,
        ) as r:
            if r.status_code == 303:
                r.success()
