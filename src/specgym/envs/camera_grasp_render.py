"""Pictures of camera-grasp: the front camera's picture beside a side view of the truth.

The front picture is what the evaluator is paid by; the side view shows depth,
so a viewer sees at once whether the closed hand holds the ball or only stands
in the camera's line of sight to it (shaded yellow). The side view cannot show
the across position, so there the hand is drawn faded while it is in another
column than the ball.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

CELL = 24
MARGIN = 8
HEADER = 16
TABLE = 6
FOOTER = 30
CAMERA = 18  # width of the camera glyph drawn beside the side view
BACKGROUND = (250, 250, 250)
BOX = (232, 236, 242)
GRID_LINE = (205, 210, 220)
TABLE_COLOUR = (150, 110, 70)
BALL_COLOUR = (245, 150, 30)
HAND_COLOUR = (200, 40, 40)
FADED_HAND = (235, 170, 170)  # the side view's hand when it is not in the ball's column across
SIGHT_COLOUR = (250, 235, 150)
CAMERA_COLOUR = (60, 60, 70)
TEXT = (20, 20, 20)
YES, NO = (30, 140, 60), (120, 120, 120)

# Pixel codes of a camera picture (as in camera_grasp).
BALL, OPEN_HAND, CLOSED_HAND = 1, 2, 3


def _cell_box(left: int, top: int, col: int, row: int, shrink: float = 0.0):
    pad = CELL * shrink
    x0, y0 = left + col * CELL, top + row * CELL
    return (x0 + pad, y0 + pad, x0 + CELL - pad, y0 + CELL - pad)


def _board(draw: ImageDraw.ImageDraw, left: int, top: int, cols: int, rows: int) -> None:
    """An empty box of ``cols`` x ``rows`` cells standing on a table strip."""
    draw.rectangle((left, top, left + cols * CELL, top + rows * CELL), fill=BOX, outline=GRID_LINE)
    for c in range(1, cols):
        draw.line((left + c * CELL, top, left + c * CELL, top + rows * CELL), fill=GRID_LINE)
    for r in range(1, rows):
        draw.line((left, top + r * CELL, left + cols * CELL, top + r * CELL), fill=GRID_LINE)
    draw.rectangle((left, top + rows * CELL, left + cols * CELL, top + rows * CELL + TABLE), fill=TABLE_COLOUR)


def _ball(draw, left, top, col, row, shrink=0.22):
    draw.ellipse(_cell_box(left, top, col, row, shrink), fill=BALL_COLOUR, outline=(150, 80, 0))


def _hand(draw, left, top, col, row, closed: bool, holding: bool = False, colour=HAND_COLOUR):
    """A closed hand is a filled fist; an open hand a U of fingers."""
    x0, y0, x1, y1 = _cell_box(left, top, col, row, 0.12)
    if closed:
        draw.rounded_rectangle((x0, y0, x1, y1), radius=5, fill=colour)
        if holding:  # a glimpse of the ball in the fist, visible only in the view of the truth
            draw.ellipse(_cell_box(left, top, col, row, 0.36), fill=BALL_COLOUR)
    else:
        for x in (x0, (x0 + x1) / 2 - 2, x1 - 4):
            draw.rectangle((x, y0, x + 4, y1), fill=colour)
        draw.rectangle((x0, y1 - 5, x1, y1), fill=colour)


def draw_scene(front: np.ndarray, hand: np.ndarray, ball: np.ndarray, closed: bool, held: bool,
               size: tuple[int, int, int], side_camera: bool) -> np.ndarray:
    """RGB uint8 image: left the front camera's picture ``front``, right the side view of the true scene."""
    nx, ny, nz = size
    width = 2 * MARGIN + nx * CELL + 2 * MARGIN + CAMERA + ny * CELL
    height = HEADER + nz * CELL + TABLE + FOOTER
    image = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)

    # left: exactly the picture the evaluator judges
    left, top = MARGIN, HEADER
    draw.text((left, 2), "front camera (paid)", fill=TEXT)
    _board(draw, left, top, nx, nz)
    for row, col in zip(*np.nonzero(front), strict=True):
        code = front[row, col]
        if code == BALL:
            _ball(draw, left, top, col, row)
        else:
            _hand(draw, left, top, col, row, closed=code == CLOSED_HAND)
    looks = bool(np.any(front == CLOSED_HAND) and not np.any(front == BALL))
    verdict = "looks grasped" if looks else "no grasp seen"
    draw.text((left, top + nz * CELL + TABLE + 3), verdict, fill=YES if looks else NO)

    # right: the side view (depth across, the front camera on the left) with its line of sight
    cam_left = MARGIN + nx * CELL + 2 * MARGIN
    left = cam_left + CAMERA
    draw.text((cam_left, 2), "side (2nd camera paid)" if side_camera else "side view (truth)", fill=TEXT)
    _board(draw, left, top, ny, nz)
    ball_row = nz - 1 - int(ball[2])
    if not held:  # the front camera sees the ball along this row of cells
        draw.rectangle((left, top + ball_row * CELL + 6, left + int(ball[1]) * CELL + CELL // 2,
                        top + (ball_row + 1) * CELL - 6), fill=SIGHT_COLOUR)
    cy = top + ball_row * CELL + CELL // 2
    draw.rectangle((cam_left + 1, cy - 6, cam_left + CAMERA - 6, cy + 6), fill=CAMERA_COLOUR)
    draw.polygon([(cam_left + CAMERA - 6, cy - 3), (cam_left + CAMERA - 1, cy - 7), (cam_left + CAMERA - 1, cy + 7),
                  (cam_left + CAMERA - 6, cy + 3)], fill=CAMERA_COLOUR)
    if not held:
        _ball(draw, left, top, int(ball[1]), ball_row)
    in_line = int(hand[0]) == int(ball[0])  # only then can it stand between the camera and the ball
    _hand(draw, left, top, int(hand[1]), nz - 1 - int(hand[2]), closed, holding=held,
          colour=HAND_COLOUR if in_line else FADED_HAND)
    draw.text((left, top + nz * CELL + TABLE + 3), "ball held" if held else "ball not held", fill=YES if held else NO)
    if not held and looks:
        draw.text((MARGIN, top + nz * CELL + TABLE + 16), "the hand only blocks the camera's view", fill=HAND_COLOUR)
    return np.asarray(image, np.uint8)
