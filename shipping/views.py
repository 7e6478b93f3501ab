def home(request, *a, **k):
    raise NotImplementedError


def ship_bulk(request, *a, **k):
    raise NotImplementedError


def upload_csv(request, *a, **k):
    raise NotImplementedError


def print_labels(request, *a, **k):
    raise NotImplementedError


def reprint(request, *a, **k):
    raise NotImplementedError


def split(request, *a, **k):
    raise NotImplementedError


def arrange(request, *a, **k):
    raise NotImplementedError


def ready_all(request, *a, **k):
    raise NotImplementedError


def package_ready(request, *a, **k):
    raise NotImplementedError


def package_ship(request, *a, **k):
    raise NotImplementedError


def package_correct(request, *a, **k):
    raise NotImplementedError


def package_label_note(request, *a, **k):
    raise NotImplementedError


def package_photo(request, *a, **k):
    raise NotImplementedError


def package_complaint(request, *a, **k):
    raise NotImplementedError


def photo(request, *a, **k):
    raise NotImplementedError


def tickets(request, *a, **k):
    raise NotImplementedError


def ticket(request, *a, **k):
    raise NotImplementedError


