"""The demo catalogue: issuers and programmes modelled on real micro-credential offers.

Skills are named by ESCO labels and resolved against the loaded taxonomy at build time, so every
alignment points at a real ESCO concept. Names of organisations are invented; their kinds and
programmes follow real ones (community and technical colleges, universities of applied sciences,
MOOC platforms, professional associations).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class IssuerSeed:
    slug: str
    name: str
    category: str  # college | online platform | industry association
    country: str
    region: str
    city: str
    url: str
    description: str
    domains: tuple[str, ...]
    languages: tuple[str, ...] = ("en",)
    currency: str = "EUR"
    official: str | None = None


@dataclass(frozen=True)
class ProgrammeSeed:
    title: str
    eqf: int
    hours: int
    skills: tuple[str, ...]
    outcomes: tuple[str, ...]
    assessment: str = "project"
    achievement_type: str = "MicroCredential"


@dataclass(frozen=True)
class DomainSeed:
    key: str
    name: str
    field_of_study: str
    tags: tuple[str, ...]
    programmes: tuple[ProgrammeSeed, ...] = field(default_factory=tuple)


ISSUERS: tuple[IssuerSeed, ...] = (
    IssuerSeed(
        "northbridge-college",
        "Northbridge Community College",
        "college",
        "US",
        "Ohio",
        "Columbus",
        "https://northbridge.example.edu",
        "A public community college offering stackable workforce certificates with local employers.",
        ("data", "cyber", "health", "pm", "business"),
        currency="USD",
        official="Higher Learning Commission accredited",
    ),
    IssuerSeed(
        "lakeshore-technical",
        "Lakeshore Technical College",
        "college",
        "US",
        "Wisconsin",
        "Cleveland",
        "https://lakeshore.example.edu",
        "Technical college for manufacturing, welding, energy and health careers.",
        ("welding", "energy", "health", "manufacturing"),
        currency="USD",
        official="Wisconsin Technical College System",
    ),
    IssuerSeed(
        "hanse-uas",
        "Hanse University of Applied Sciences",
        "college",
        "DE",
        "Hamburg",
        "Hamburg",
        "https://hanse-uas.example.de",
        "University of applied sciences offering ECTS-bearing micro-credentials for professionals.",
        ("data", "cyber", "pm", "logistics", "marketing"),
        languages=("en", "de"),
        official="Accredited by the German Accreditation Council",
    ),
    IssuerSeed(
        "liffey-further-ed",
        "Liffey Institute of Further Education",
        "college",
        "IE",
        "Dublin",
        "Dublin",
        "https://liffey.example.ie",
        "Further education and training college with QQI-validated short courses.",
        ("marketing", "business", "health", "cyber"),
        official="QQI validated",
    ),
    IssuerSeed(
        "skillpath-online",
        "SkillPath Online",
        "online platform",
        "GB",
        "London",
        "London",
        "https://skillpath.example.com",
        "Online learning platform with self-paced and cohort courses from industry practitioners.",
        ("data", "marketing", "software", "pm"),
        currency="GBP",
    ),
    IssuerSeed(
        "opencourse-hub",
        "OpenCourse Hub",
        "online platform",
        "NL",
        "North Holland",
        "Amsterdam",
        "https://opencourse.example.org",
        "A MOOC platform partnering with European universities on verified micro-credentials.",
        ("data", "software", "cyber", "energy"),
        languages=("en", "nl"),
    ),
    IssuerSeed(
        "codeforward",
        "CodeForward Academy",
        "online platform",
        "ES",
        "Catalonia",
        "Barcelona",
        "https://codeforward.example.es",
        "Bootcamp-style online academy for software development and cloud skills.",
        ("software", "cyber", "data"),
        languages=("en", "es"),
    ),
    IssuerSeed(
        "eu-digital-marketing-assoc",
        "European Digital Marketing Association",
        "industry association",
        "BE",
        "Brussels",
        "Brussels",
        "https://edma.example.eu",
        "Professional association certifying digital marketing and analytics practitioners.",
        ("marketing", "data"),
    ),
    IssuerSeed(
        "health-informatics-society",
        "Health Informatics Society",
        "industry association",
        "US",
        "Illinois",
        "Chicago",
        "https://his.example.org",
        "Professional society for health information management and clinical informatics.",
        ("health",),
        currency="USD",
    ),
    IssuerSeed(
        "project-leaders-guild",
        "Project Leaders Guild",
        "industry association",
        "GB",
        "England",
        "Manchester",
        "https://plg.example.org.uk",
        "Membership body for project, programme and portfolio professionals.",
        ("pm", "business"),
        currency="GBP",
    ),
    IssuerSeed(
        "welding-safety-council",
        "Welding & Fabrication Safety Council",
        "industry association",
        "US",
        "Texas",
        "Houston",
        "https://wfsc.example.org",
        "Industry association setting safety and qualification standards for welders.",
        ("welding", "manufacturing"),
        currency="USD",
    ),
)

P = ProgrammeSeed

DOMAINS: tuple[DomainSeed, ...] = (
    DomainSeed(
        "data",
        "Data analysis",
        "0542 Statistics",
        ("data", "analytics"),
        (
            P(
                "Data Analysis with Spreadsheets",
                4,
                30,
                ("use spreadsheets software", "statistics", "data quality assessment"),
                (
                    "Clean and structure tabular data",
                    "Summarise data with pivot tables and charts",
                    "Check data quality and document issues",
                ),
                "exam",
            ),
            P(
                "Foundations of Data Analytics",
                5,
                60,
                ("statistics", "data mining", "data visualisation software"),
                (
                    "Frame a business question as an analysis",
                    "Apply descriptive statistics",
                    "Communicate findings with charts",
                ),
            ),
            P(
                "SQL for Data Analysis",
                5,
                40,
                ("SQL", "database", "query languages"),
                (
                    "Write SELECT queries with joins and aggregates",
                    "Model simple relational schemas",
                    "Optimise slow queries",
                ),
                "exam",
            ),
            P(
                "Python for Data Analysis",
                5,
                80,
                ("Python (computer programming)", "data mining", "statistics"),
                (
                    "Load and transform data with pandas",
                    "Automate repeatable analyses",
                    "Test analysis code",
                ),
            ),
            P(
                "Data Visualisation and Storytelling",
                5,
                30,
                (
                    "data visualisation software",
                    "present reports",
                    "visual presentation techniques",
                ),
                (
                    "Choose the right chart for the question",
                    "Design accessible dashboards",
                    "Present insights to stakeholders",
                ),
                "portfolio",
            ),
            P(
                "Applied Machine Learning",
                6,
                120,
                ("machine learning", "Python (computer programming)", "data mining"),
                (
                    "Train and evaluate supervised models",
                    "Avoid leakage and overfitting",
                    "Explain model behaviour",
                ),
                "project",
            ),
            P(
                "Business Intelligence Reporting",
                5,
                45,
                ("business intelligence", "data visualisation software", "SQL"),
                (
                    "Build a reporting data model",
                    "Publish KPI dashboards",
                    "Automate report refreshes",
                ),
            ),
            P(
                "Statistics for Decision Making",
                6,
                50,
                ("statistics", "statistical analysis system software", "analyse big data"),
                (
                    "Apply hypothesis tests",
                    "Estimate confidence intervals",
                    "Design A/B experiments",
                ),
                "exam",
            ),
        ),
    ),
    DomainSeed(
        "cyber",
        "Cybersecurity",
        "0612 Database and network design and administration",
        ("cybersecurity", "IT"),
        (
            P(
                "Cybersecurity Fundamentals",
                4,
                40,
                ("cyber security", "ICT security legislation", "cyber attack counter-measures"),
                (
                    "Describe common threats and attack vectors",
                    "Apply basic security controls",
                    "Explain legal obligations",
                ),
                "exam",
            ),
            P(
                "Network Security Essentials",
                5,
                60,
                ("cyber attack counter-measures", "ICT network security risks", "firewall rules"),
                (
                    "Configure firewalls and segmentation",
                    "Monitor network traffic",
                    "Harden network devices",
                ),
                "practical-demonstration",
            ),
            P(
                "Ethical Hacking and Penetration Testing",
                6,
                90,
                ("penetration testing tool", "identify ICT system weaknesses", "cyber security"),
                (
                    "Plan a scoped penetration test",
                    "Exploit and report vulnerabilities responsibly",
                    "Recommend remediations",
                ),
                "practical-demonstration",
            ),
            P(
                "Security Operations Centre Analyst",
                5,
                80,
                (
                    "manage IT security compliances",
                    "ICT security standards",
                    "cyber attack counter-measures",
                ),
                (
                    "Triage alerts in a SIEM",
                    "Run incident response playbooks",
                    "Write incident reports",
                ),
                "project",
            ),
            P(
                "Cloud Security and Compliance",
                6,
                50,
                ("cloud security and compliance", "cloud technologies", "ICT security standards"),
                (
                    "Apply the shared responsibility model",
                    "Secure identities and storage",
                    "Evidence compliance controls",
                ),
            ),
            P(
                "Information Security Management (ISO/IEC 27001)",
                6,
                45,
                ("ICT security standards", "risk management", "manage IT security compliances"),
                ("Scope an ISMS", "Run a risk assessment", "Prepare for certification audit"),
                "exam",
            ),
            P(
                "Digital Forensics Basics",
                5,
                40,
                ("ICT forensics", "cyber security", "ICT security legislation"),
                (
                    "Preserve digital evidence",
                    "Analyse disk and memory images",
                    "Keep chain of custody",
                ),
            ),
        ),
    ),
    DomainSeed(
        "health",
        "Healthcare informatics",
        "0914 Medical diagnostic and treatment technology",
        ("health", "informatics"),
        (
            P(
                "Health Informatics Foundations",
                5,
                45,
                ("health informatics", "health records management", "patient safety theories"),
                (
                    "Explain clinical information flows",
                    "Describe EHR functions",
                    "Protect patient data",
                ),
                "exam",
            ),
            P(
                "Electronic Health Records Management",
                4,
                35,
                ("health records management", "manage healthcare users' data", "clinical coding"),
                (
                    "Maintain accurate patient records",
                    "Apply coding standards",
                    "Handle release-of-information requests",
                ),
                "practical-demonstration",
            ),
            P(
                "Clinical Data Analytics",
                6,
                60,
                ("health informatics", "statistics", "data visualisation software"),
                (
                    "Analyse clinical quality indicators",
                    "Build population health dashboards",
                    "Respect data governance",
                ),
            ),
            P(
                "Medical Coding and Billing",
                4,
                90,
                ("clinical coding", "medical terminology", "health records management"),
                ("Assign ICD-10 and CPT codes", "Prepare claims", "Audit coding accuracy"),
                "exam",
            ),
            P(
                "Patient Safety and Quality Improvement",
                5,
                30,
                (
                    "patient safety theories",
                    "quality assurance methodologies",
                    "health care legislation",
                ),
                ("Analyse adverse events", "Run improvement cycles", "Engage clinical teams"),
                "portfolio",
            ),
            P(
                "Telehealth Operations",
                5,
                25,
                ("e-health", "health informatics", "communication"),
                (
                    "Set up virtual care workflows",
                    "Support patients remotely",
                    "Evaluate telehealth services",
                ),
            ),
            P(
                "Healthcare Privacy and Compliance",
                5,
                20,
                (
                    "health care legislation",
                    "manage healthcare users' data",
                    "ICT security legislation",
                ),
                (
                    "Apply HIPAA/GDPR rules to health data",
                    "Handle breaches",
                    "Train staff on privacy",
                ),
                "exam",
            ),
        ),
    ),
    DomainSeed(
        "pm",
        "Project management",
        "0413 Management and administration",
        ("project management",),
        (
            P(
                "Project Management Foundations",
                4,
                35,
                ("project management", "perform project management", "manage budgets"),
                (
                    "Define scope, schedule and budget",
                    "Track progress against a plan",
                    "Report status to sponsors",
                ),
                "exam",
            ),
            P(
                "Agile Project Management with Scrum",
                5,
                30,
                ("Agile project management", "teamwork principles", "manage project changes"),
                (
                    "Run sprints and ceremonies",
                    "Maintain a product backlog",
                    "Measure delivery with metrics",
                ),
                "exam",
            ),
            P(
                "Risk Management for Projects",
                6,
                25,
                ("risk management", "perform risk analysis", "manage project metrics"),
                ("Identify and score project risks", "Plan responses", "Monitor risk exposure"),
            ),
            P(
                "Lean Project Management",
                5,
                25,
                (
                    "lean project management",
                    "quality assurance methodologies",
                    "project management",
                ),
                ("Map value streams", "Remove waste from processes", "Lead continuous improvement"),
                "project",
            ),
            P(
                "Stakeholder Engagement and Communication",
                5,
                20,
                ("communication", "build business relationships", "leadership principles"),
                (
                    "Map stakeholders and interests",
                    "Plan communications",
                    "Negotiate and resolve conflict",
                ),
                "portfolio",
            ),
            P(
                "Programme and Portfolio Management",
                7,
                60,
                ("project management methodology (PM²)", "manage budgets", "strategic planning"),
                ("Align projects with strategy", "Govern a portfolio", "Realise benefits"),
            ),
            P(
                "Project Scheduling and Cost Control",
                5,
                30,
                ("manage project metrics", "manage budgets", "project management"),
                (
                    "Build critical path schedules",
                    "Apply earned value management",
                    "Forecast completion",
                ),
            ),
        ),
    ),
    DomainSeed(
        "marketing",
        "Digital marketing analytics",
        "0414 Marketing and advertising",
        ("marketing", "digital"),
        (
            P(
                "Digital Marketing Fundamentals",
                4,
                30,
                ("digital marketing techniques", "online marketing", "social media management"),
                (
                    "Plan a multi-channel campaign",
                    "Choose channels by audience",
                    "Measure campaign results",
                ),
                "exam",
            ),
            P(
                "Web Analytics and Measurement",
                5,
                35,
                ("web analytics", "online analytical processing", "digital marketing techniques"),
                (
                    "Implement tracking plans",
                    "Analyse acquisition and conversion funnels",
                    "Report on KPIs",
                ),
                "project",
            ),
            P(
                "Search Engine Optimisation",
                5,
                25,
                ("search engine optimisation", "content development processes", "web analytics"),
                (
                    "Audit a site for technical SEO",
                    "Research keywords",
                    "Measure organic performance",
                ),
            ),
            P(
                "Social Media Marketing Strategy",
                4,
                25,
                (
                    "social media management",
                    "create social media content",
                    "digital marketing techniques",
                ),
                ("Define a social strategy", "Produce and schedule content", "Analyse engagement"),
                "portfolio",
            ),
            P(
                "Marketing Data Analytics",
                6,
                50,
                ("web analytics", "statistics", "customer relationship management"),
                (
                    "Segment customers with data",
                    "Attribute conversions across channels",
                    "Forecast campaign ROI",
                ),
            ),
            P(
                "Email and Marketing Automation",
                5,
                20,
                (
                    "e-mail marketing",
                    "customer relationship management",
                    "digital marketing techniques",
                ),
                (
                    "Design automated journeys",
                    "Test subject lines and content",
                    "Comply with consent rules",
                ),
            ),
            P(
                "Content Marketing and Copywriting",
                4,
                25,
                ("content development processes", "write copy", "online marketing"),
                (
                    "Plan an editorial calendar",
                    "Write for web and social",
                    "Measure content performance",
                ),
                "portfolio",
            ),
        ),
    ),
    DomainSeed(
        "welding",
        "Welding and fabrication safety",
        "0715 Mechanics and metal trades",
        ("welding", "safety"),
        (
            P(
                "Welding Safety Fundamentals",
                3,
                16,
                ("welding techniques", "safety engineering", "hazardous materials transportation"),
                (
                    "Identify welding hazards",
                    "Use PPE and ventilation correctly",
                    "Apply fire prevention procedures",
                ),
                "exam",
            ),
            P(
                "Shielded Metal Arc Welding (SMAW) Level 1",
                3,
                80,
                ("welding techniques", "metal joining technologies", "use welding equipment"),
                (
                    "Set up SMAW equipment",
                    "Produce fillet welds in flat and horizontal positions",
                    "Inspect welds visually",
                ),
                "practical-demonstration",
            ),
            P(
                "Gas Metal Arc Welding (GMAW/MIG)",
                3,
                80,
                ("welding techniques", "use welding equipment", "metal joining technologies"),
                (
                    "Select wire and shielding gas",
                    "Weld plate in multiple positions",
                    "Correct common defects",
                ),
                "practical-demonstration",
            ),
            P(
                "Gas Tungsten Arc Welding (GTAW/TIG)",
                4,
                90,
                ("welding techniques", "metallurgy", "use welding equipment"),
                (
                    "Weld stainless and aluminium",
                    "Control heat input",
                    "Meet code acceptance criteria",
                ),
                "practical-demonstration",
            ),
            P(
                "Weld Inspection and Quality Control",
                4,
                40,
                ("inspect welds", "quality assurance methodologies", "metallurgy"),
                (
                    "Apply visual and dye-penetrant inspection",
                    "Read welding symbols",
                    "Document nonconformities",
                ),
                "exam",
            ),
            P(
                "Confined Space and Hot Work Permits",
                3,
                8,
                ("safety engineering", "hazardous waste treatment", "first aid"),
                (
                    "Assess confined space hazards",
                    "Issue and close hot work permits",
                    "Respond to emergencies",
                ),
                "practical-demonstration",
            ),
            P(
                "Blueprint Reading for Fabricators",
                3,
                30,
                ("read standard blueprints", "technical drawings", "welding techniques"),
                ("Interpret fabrication drawings", "Apply tolerances", "Plan cutting lists"),
                "exam",
            ),
        ),
    ),
    DomainSeed(
        "software",
        "Software development",
        "0613 Software and applications development and analysis",
        ("software", "IT"),
        (
            P(
                "Web Development with JavaScript",
                5,
                90,
                ("JavaScript", "web programming", "JavaScript Framework"),
                ("Build responsive web pages", "Write testable JavaScript", "Consume REST APIs"),
                "project",
            ),
            P(
                "Python Programming Essentials",
                4,
                60,
                ("Python (computer programming)", "computer programming", "software testing"),
                (
                    "Write idiomatic Python",
                    "Structure programs into modules",
                    "Test code with pytest",
                ),
                "exam",
            ),
            P(
                "Cloud Fundamentals",
                4,
                30,
                (
                    "cloud technologies",
                    "cloud monitoring and reporting",
                    "cloud security and compliance",
                ),
                (
                    "Explain cloud service models",
                    "Deploy a simple workload",
                    "Estimate cloud costs",
                ),
                "exam",
            ),
            P(
                "DevOps and Continuous Delivery",
                6,
                60,
                ("DevOps", "software configuration management tools", "cloud technologies"),
                (
                    "Automate build, test and deploy",
                    "Run containers",
                    "Monitor services in production",
                ),
            ),
            P(
                "Java Programming",
                5,
                80,
                ("Java (computer programming)", "object-oriented modelling", "software testing"),
                (
                    "Design object-oriented programs",
                    "Use collections and streams",
                    "Write unit tests",
                ),
            ),
            P(
                "Software Testing and Quality Assurance",
                5,
                40,
                ("software testing", "quality assurance methodologies", "ICT quality assurance"),
                ("Design test cases", "Automate regression tests", "Report defects"),
                "project",
            ),
            P(
                "Databases for Developers",
                5,
                40,
                ("database", "SQL", "database management systems"),
                ("Model relational data", "Write transactional code", "Tune indexes"),
            ),
        ),
    ),
    DomainSeed(
        "business",
        "Business and management",
        "0413 Management and administration",
        ("business",),
        (
            P(
                "Bookkeeping and Accounting Basics",
                4,
                40,
                ("accounting techniques", "accounting entries", "budgetary principles"),
                ("Record transactions", "Prepare trial balances", "Reconcile accounts"),
                "exam",
            ),
            P(
                "Customer Service Excellence",
                3,
                15,
                ("customer service", "communication", "customer relationship management"),
                (
                    "Handle enquiries and complaints",
                    "Apply service standards",
                    "Measure satisfaction",
                ),
                "practical-demonstration",
            ),
            P(
                "Team Leadership Essentials",
                5,
                24,
                ("leadership principles", "teamwork principles", "communication"),
                ("Set goals and give feedback", "Run effective meetings", "Support team wellbeing"),
                "portfolio",
            ),
            P(
                "Supply Chain Management Basics",
                5,
                35,
                ("supply chain management", "supply chain principles", "logistics"),
                ("Map a supply chain", "Plan inventory", "Evaluate suppliers"),
            ),
            P(
                "Entrepreneurship and Business Planning",
                5,
                30,
                ("business plans", "budgetary principles", "market research"),
                ("Validate a business idea", "Write a business plan", "Forecast cash flow"),
                "project",
            ),
        ),
    ),
    DomainSeed(
        "energy",
        "Renewable energy",
        "0713 Electricity and energy",
        ("energy", "sustainability"),
        (
            P(
                "Solar PV Installation",
                4,
                60,
                ("solar energy", "solar panel mounting systems", "electrical engineering"),
                (
                    "Design a rooftop PV array",
                    "Install mounting and wiring safely",
                    "Commission and test systems",
                ),
                "practical-demonstration",
            ),
            P(
                "Energy Efficiency Auditing",
                5,
                40,
                ("energy efficiency", "energy performance of buildings", "statistics"),
                (
                    "Measure building energy use",
                    "Recommend efficiency measures",
                    "Calculate payback",
                ),
                "project",
            ),
            P(
                "Electrical Safety for Technicians",
                3,
                16,
                ("electrical equipment regulations", "safety engineering", "first aid"),
                ("Apply lockout/tagout", "Test for dead", "Respond to electric shock"),
                "exam",
            ),
            P(
                "Heat Pump Technology",
                4,
                40,
                ("heat pumps", "energy efficiency", "electrical engineering"),
                ("Size a heat pump", "Install and commission", "Diagnose faults"),
                "practical-demonstration",
            ),
        ),
    ),
    DomainSeed(
        "logistics",
        "Logistics",
        "1041 Transport services",
        ("logistics",),
        (
            P(
                "Warehouse Operations",
                3,
                30,
                ("warehouse operations", "logistics", "inventory management rules"),
                (
                    "Run receiving and put-away",
                    "Count and reconcile stock",
                    "Work safely with equipment",
                ),
                "practical-demonstration",
            ),
            P(
                "Logistics Analytics",
                6,
                40,
                ("logistics", "statistics", "supply chain management"),
                ("Analyse transport costs", "Optimise routes", "Forecast demand"),
            ),
            P(
                "Dangerous Goods Transport",
                4,
                20,
                ("hazardous materials transportation", "logistics", "safety engineering"),
                ("Classify dangerous goods", "Prepare transport documents", "Handle incidents"),
                "exam",
            ),
        ),
    ),
    DomainSeed(
        "manufacturing",
        "Advanced manufacturing",
        "0715 Mechanics and metal trades",
        ("manufacturing",),
        (
            P(
                "CNC Machining Fundamentals",
                4,
                80,
                ("CNC machining", "technical drawings", "metal joining technologies"),
                ("Set up a CNC mill", "Write basic G-code", "Inspect parts"),
                "practical-demonstration",
            ),
            P(
                "Lean Manufacturing and Six Sigma Yellow Belt",
                4,
                24,
                (
                    "lean project management",
                    "statistical quality control",
                    "quality assurance methodologies",
                ),
                ("Apply 5S and standard work", "Measure process capability", "Run a DMAIC project"),
                "exam",
            ),
            P(
                "Industrial Safety (OSHA 30 aligned)",
                3,
                30,
                ("safety engineering", "hazardous waste treatment", "first aid"),
                ("Recognise workplace hazards", "Apply OSHA standards", "Investigate incidents"),
                "exam",
            ),
        ),
    ),
)

LEVEL_VARIANTS = (
    ("", 0, 1.0),
    ("Intensive: ", 0, 1.3),
    ("Advanced ", 1, 1.5),
)

FIRST_NAMES = (
    "Amara",
    "Ben",
    "Chen",
    "Dana",
    "Elif",
    "Farid",
    "Grace",
    "Hugo",
    "Ines",
    "Jonas",
    "Kofi",
    "Lena",
    "Mateo",
    "Nadia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tariq",
    "Uma",
    "Viktor",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
    "Aoife",
    "Bruno",
    "Carmen",
    "Dmitri",
    "Emeka",
    "Fatima",
)
LAST_NAMES = (
    "Adeyemi",
    "Becker",
    "Costa",
    "Dubois",
    "Eriksson",
    "Fernandez",
    "Garcia",
    "Hansen",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Larsen",
    "Murphy",
    "Nguyen",
    "O'Brien",
    "Patel",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Usman",
    "Varga",
    "Walsh",
    "Xu",
    "Yilmaz",
    "Zimmermann",
    "Okafor",
    "Novak",
    "Byrne",
)
