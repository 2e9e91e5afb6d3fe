"""Templates for new maps: the stage vocabularies of the method, in English and Russian."""

from .model import Channel, Journey, Stage

TEMPLATES = {
    "blank": {"en": [], "ru": []},
    "lifecycle": {
        "en": ["Potential", "Developing", "Developed", "Sleeping", "Lost"],
        "ru": ["Потенциальный", "Развивающийся", "Развитый", "Спящий", "Утерянный"],
    },
    "buttle": {
        "en": ["Awareness", "Exploration", "Expansion", "Commitment", "Dissolution"],
        "ru": ["Осведомлённость", "Изучение", "Расширение", "Обязательство", "Расторжение"],
    },
    "marketing": {
        "en": ["Awareness", "Consideration", "Purchase", "Use and service", "Loyalty and advocacy"],
        "ru": [
            "Осведомлённость",
            "Рассмотрение",
            "Покупка",
            "Использование и сервис",
            "Лояльность",
        ],
    },
}
# Channels every template starts with; the catalogue has more.
STARTER_CHANNELS = {
    "en": [("website", "Website"), ("mobile-app", "Mobile app"), ("call-centre", "Call centre")],
    "ru": [
        ("website", "Сайт"),
        ("mobile-app", "Мобильное приложение"),
        ("call-centre", "Колл-центр"),
    ],
}
STAGE_KEYS = {
    "lifecycle": ["potential", "developing", "developed", "sleeping", "lost"],
    "buttle": ["awareness", "exploration", "expansion", "commitment", "dissolution"],
    "marketing": ["awareness", "consideration", "purchase", "use", "loyalty"],
}


def from_template(template: str, language: str, title: str) -> Journey:
    """A new Journey with the template's stages (and starter channels unless blank)."""
    if template not in TEMPLATES or language not in TEMPLATES[template]:
        raise KeyError(template)
    names = TEMPLATES[template][language]
    stages = [
        Stage(key=k, name=n) for k, n in zip(STAGE_KEYS.get(template, []), names, strict=False)
    ]
    channels = (
        [] if template == "blank" else [Channel(k, n, k) for k, n in STARTER_CHANNELS[language]]
    )
    return Journey(title=title, language=language, stages=stages, channels=channels)
